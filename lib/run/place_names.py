"""The tables of a place x activity run under their own names, and the upgrade of warehouses written before them.

The yearly core (``lib.execution.indicators``) keys its rows by BACI's ``country_code`` (an
integer) and ``product``; a place x activity run writes them as ``lib.tables.naming`` names them:
the integer code k becomes the input's place code ``codes[k - 1]`` (``lib.run.place_activity
.place_codes`` numbers the sorted places 1..n), ``product`` becomes ``activity``, and so on, by
the one renaming rule (``lib.tables.naming.renamed_column``). A warehouse written before these
names (indicator tables called ``country_year`` ..., regional tables keyed by ``country_code``)
has those tables removed, and the run computes every year of its input again.

Must not compute anything: it renames, maps codes and writes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.execution.ingest import UNSORTED_PARTITION_WRITES
from lib.io import delta
from lib.io.filesystems import arrow_filesystem
from lib.tables import PLACE_ACTIVITY_TABLES
from lib.tables.naming import TABLE_NAMES, renamed_column

DATASET, PLACES, ACTIVITIES, QUARANTINE, STRUCTURE, CONCENTRATION, CHANGES = PLACE_ACTIVITY_TABLES[
    len(TABLE_NAMES) :
]

# --- the yearly core's names (country_code, product) -> the tables' (place, activity) -----


def named_frame(frame: pd.DataFrame, codes: np.ndarray) -> pd.DataFrame:
    """Rows of the yearly core as the place x activity tables name them
    (``lib.tables.naming``): the integer ``country_code`` k becomes the place ``codes[k - 1]``."""
    out = {}
    for column in frame.columns:
        new = renamed_column(column)
        if new is not None:
            values = frame[column]
            out[new] = codes[values.to_numpy() - 1] if column == "country_code" else values
    return pd.DataFrame(out, index=frame.index)


def named_arrow(rows: pa.Table, codes: np.ndarray) -> pa.Table:
    """``named_frame`` of driver-side Arrow rows."""
    columns = {}
    for column in rows.column_names:
        new = renamed_column(column)
        if new is not None:
            values = rows.column(column)
            if column == "country_code":
                values = pa.array(codes[values.to_numpy() - 1], pa.string())
            columns[new] = values
    return pa.table(columns)


def named_df(df: DataFrame, places: DataFrame) -> DataFrame:
    """``named_frame`` of a DataFrame: ``places`` (country_code, place) is small and joined
    by broadcast."""
    if "country_code" in df.columns:
        df = df.join(F.broadcast(places), "country_code").drop("country_code")
    return df.select(*[F.col(c).alias(renamed_column(c)) for c in df.columns if renamed_column(c)])


# The tables a place x activity run wrote before they used place / activity (lib.tables.naming).
PRE_NAMING_TABLES = (*TABLE_NAMES, PLACES, ACTIVITIES, STRUCTURE, CONCENTRATION, CHANGES)


def pre_naming_tables(spark: SparkSession, warehouse: str) -> list[str]:
    """The tables of the warehouse in the layout before ``lib.tables.naming``: the indicator
    tables under their BACI names, and those still keyed by ``country_code`` or ``product``
    (the warehouse holds no BACI flows: ``check_warehouse``)."""
    if not delta.table_exists(spark, warehouse, DATASET):
        return []
    found = []
    for name in PRE_NAMING_TABLES:
        if delta.table_exists(spark, warehouse, name):
            columns = set(delta.table_columns(spark, delta.table_path(warehouse, name)))
            if name in TABLE_NAMES or columns & {"country_code", "product"}:
                found.append(name)
    return found


def remove_tables(warehouse: str, names: list[str]) -> None:
    """Delete the tables' folders (an upgrade replaces them whole)."""
    for name in names:
        fs, path = arrow_filesystem(delta.table_path(warehouse, name))
        fs.delete_dir(path)


def write_indicators(
    spark: SparkSession, tables, places: pd.DataFrame, warehouse: str, run, years: list[int]
) -> None:
    """The yearly core's tables (``lib.execution.indicators.IndicatorTables``) under their place
    x activity names (``lib.tables.naming``), replacing the years computed."""
    predicate = delta.year_predicate(years)
    for year, path in tables.paths.items():  # which path computed each year (execution.matrix)
        run.row_counts[f"indicators.{path}.{year}"] = 1
    codes = places["place"].to_numpy(object)
    small = {
        TABLE_NAMES[delta.COUNTRY_YEAR]: named_arrow(tables.country_year, codes),
        TABLE_NAMES[delta.PRODUCT_YEAR]: named_arrow(tables.product_year, codes),
        delta.FITNESS_CONVERGENCE: tables.fitness_convergence,
    }
    for name, arrow_rows in small.items():
        delta.write_arrow_rows(
            spark,
            arrow_rows,
            warehouse,
            name,
            run.run_id,
            writer=run.config.output.writer,
            replace_where=predicate,
        )
        run.row_counts[f"indicators.{name}"] = arrow_rows.num_rows
    place_codes_df = spark.createDataFrame(places[["country_code", "place"]])
    large = {
        delta.COUNTRY_PRODUCT_YEAR: tables.country_product_year,
        delta.PRODUCT_PROXIMITY: tables.product_proximity,
    }
    for baci_name, df in large.items():
        if df is not None:
            name = TABLE_NAMES[baci_name]
            with delta.session_conf(spark, UNSORTED_PARTITION_WRITES):
                delta.write_table(
                    named_df(df, place_codes_df),
                    warehouse,
                    name,
                    run.run_id,
                    replace_where=predicate,
                )


def top_places(spark: SparkSession, warehouse: str, column: str, year: int, n: int = 10) -> str:
    """The job's closing summary: the ``n`` places with the highest ``column`` of ``year``."""
    table = delta.read_arrow(
        spark, warehouse, TABLE_NAMES[delta.COUNTRY_YEAR], ["year", "place", "place_name", column]
    ).to_pandas()
    chosen = table[(table["year"] == year) & table[column].notna()]
    top = chosen.sort_values(column, ascending=False, kind="stable").head(n)
    lines = [
        f"Top {n} by {column}, {year}:",
        f"  {'#':>3}  {'place':<12} {'name':<32} {column:>12}",
    ]
    for rank, row in enumerate(top.itertuples(index=False), 1):
        name = (row.place_name or row.place)[:32]
        lines.append(f"  {rank:>3}  {row.place[:12]:<12} {name:<32} {getattr(row, column):>12.4g}")
    return "\n".join(lines)
