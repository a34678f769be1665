"""The stages of a run on a place x activity table (``jobs/fitness.py --source TABLE``).

The same yearly core as for BACI (``lib.measures.yearly`` through ``lib.execution.indicators``) on values by
place and activity instead of exports by country and product: places get integer codes
(``places``: they are the ``country_code`` of the indicator tables), activities keep their codes
(``activities``: the ``product``), and ``place_activity_dataset`` says what both are. Then the
regional measures of ``lib.measures.regional`` per year (``place_structure_year``,
``activity_concentration_year``) and the specialisations entered and exited between consecutive
years (``specialisation_changes``).

A run reads the whole table, replaces the description tables and, in the yearly tables, the
years it computed (no incremental bookkeeping: a regional table is small). A warehouse holds one kind of input: a place x activity run
refuses a warehouse with BACI flows, so the two never mix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.io import catalog, delta
from lib.io.place_activity import PlaceActivityTable, source_format
from lib.measures.regional import place_structure_rows, specialisation_changes
from lib.measures.yearly import YearSettings, year_presence
from lib.run.config import Config, parse_years
from lib.run.settings import year_settings
from lib.tables import PLACE_ACTIVITY_TABLES, spark_schema

DATASET, PLACES, ACTIVITIES, QUARANTINE, STRUCTURE, CONCENTRATION, CHANGES = PLACE_ACTIVITY_TABLES

# --source uk-regions: the embedded SYNTHETIC regional dataset (lib.datasets.regions).
UK_REGIONS = "uk-regions"


@dataclass(frozen=True)
class Descriptor:
    """What the places, activities and values of the input are."""

    dataset: str
    place_kind: str
    activity_classification: str
    value_measure: str
    synthetic: bool = False
    note: str = ""


def is_place_activity_source(source: str) -> bool:
    """A place x activity table (or ``uk-regions``) rather than a BACI release (a zip, or a
    folder of BACI_*.csv files)."""
    if source == UK_REGIONS:
        return True
    path = Path(source)
    if source.lower().endswith(".zip"):
        return False
    if path.is_dir() and not (path / "_delta_log").is_dir():
        return not any(path.glob("BACI_*"))
    try:
        source_format(source)
    except ValueError:
        return False
    return True


def resolve(config: Config) -> tuple[str, Descriptor]:
    """The table to read and its descriptor: ``uk-regions`` is generated (SYNTHETIC) into
    data/generated/uk_regions; for any other table the input.* options describe it."""
    source = config.input.source
    cfg = config.input
    if source == UK_REGIONS:
        from lib.datasets.regions import SYNTHETIC_NOTE, write_uk_regions
        from lib.datasets.synthetic import default_release_path

        path = write_uk_regions(default_release_path().parent / "uk_regions")
        return str(path), Descriptor(
            UK_REGIONS,
            cfg.place_kind or "region",
            cfg.activity_classification or "SIC 2007 division",
            cfg.value_measure or "employees",
            synthetic=True,
            note=SYNTHETIC_NOTE,
        )
    path = source if "://" in source else str(Path(source).expanduser().resolve())
    name = Path(path.rstrip("/")).name.split(".")[0]
    return path, Descriptor(
        name,
        cfg.place_kind or "place",
        cfg.activity_classification or "unspecified",
        cfg.value_measure or "value",
        synthetic=cfg.synthetic,
        note=cfg.note,
    )


def place_codes(rows: pd.DataFrame) -> pd.DataFrame:
    """Places and their integer codes 1..n, sorted by the input's code: country_code, place,
    place_name (the first non-empty name given)."""
    names = rows.dropna(subset=["place_name"]).groupby("place")["place_name"].first()
    places = pd.DataFrame({"place": sorted(rows["place"].unique())})
    places.insert(0, "country_code", np.arange(1, len(places) + 1, dtype=np.int32))
    places["place_name"] = places["place"].map(names)
    return places


def activity_table(rows: pd.DataFrame) -> pd.DataFrame:
    """product (the activity's code), activity_name, parent_activity (first non-empty of each)."""
    first = rows.groupby("activity")[["activity_name", "parent_activity"]].first()
    return first.reset_index().rename(columns={"activity": "product"})


def check_warehouse(spark: SparkSession, warehouse: str) -> None:
    if delta.table_exists(spark, warehouse, delta.FLOWS):
        raise SystemExit(
            f"The warehouse {warehouse} holds BACI flows: write a place x activity table into "
            "another one (--warehouse PATH), so that the two never mix."
        )


def exports_rows(rows: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """The input as the yearly core's rows: year, country_code, product, export_value."""
    codes = dict(zip(places["place"], places["country_code"], strict=True))
    return pd.DataFrame(
        {
            "year": rows["year"].astype(np.int32),
            "country_code": rows["place"].map(codes).astype(np.int32),
            "product": rows["activity"].astype(str),
            "export_value": rows["value"].astype(np.float64),
        }
    )


def write_descriptions(
    spark: SparkSession,
    warehouse: str,
    run_id: str,
    table: PlaceActivityTable,
    descriptor: Descriptor,
    places: pd.DataFrame,
) -> None:
    """places, activities, the dataset row and the quarantine (each replaced whole)."""
    dataset = pd.DataFrame(
        [
            {
                "dataset": descriptor.dataset,
                "source": table.source,
                "place_kind": descriptor.place_kind,
                "activity_classification": descriptor.activity_classification,
                "value_measure": descriptor.value_measure,
                "synthetic": descriptor.synthetic,
                "note": descriptor.note,
                "run_id": run_id,
            }
        ]
    )
    quarantine = table.quarantine.assign(run_id=run_id)
    frames = {
        DATASET: dataset,
        PLACES: places,
        ACTIVITIES: activity_table(table.rows),
        QUARANTINE: quarantine,
    }
    for name, frame in frames.items():
        df = spark.createDataFrame(_records(frame, name), spark_schema(name))
        delta.write_table(df, warehouse, name, run_id)


def _records(frame: pd.DataFrame, name: str) -> list[tuple]:
    """Rows as plain Python values in the table's column order (NaN -> None)."""
    columns = spark_schema(name).fieldNames()
    out = frame.reindex(columns=columns).astype(object)
    return [tuple(None if pd.isna(v) else v for v in row) for row in out.itertuples(index=False)]


def regional_tables(exports: DataFrame, settings: YearSettings) -> dict[str, DataFrame]:
    """place_structure_year and activity_concentration_year (one task per year, on the same
    presence matrices as the indicators: ``lib.measures.yearly.year_presence``), and the
    specialisations entered and exited between consecutive years (one task per pair)."""

    def per_year(name: str, kind: str):
        schema = spark_schema(name)

        def compute(rows: pd.DataFrame) -> pd.DataFrame:
            year = int(rows["year"].iloc[0])
            frame = place_structure_rows(year, year_presence(rows, settings))[kind]
            return frame[schema.fieldNames()]

        return exports.groupBy("year").applyInPandas(compute, schema)

    tables = {
        STRUCTURE: per_year(STRUCTURE, "place"),
        CONCENTRATION: per_year(CONCENTRATION, "activity"),
    }

    # Each year's rows go to their own group ("after") and to the next year's ("before"): one
    # task sees both years of a change.
    years = sorted(r["year"] for r in exports.select("year").distinct().collect())
    following = dict(zip(years, years[1:], strict=False))
    if not following:
        tables[CHANGES] = exports.sparkSession.createDataFrame([], spark_schema(CHANGES))
        return tables
    pairs = F.create_map(*[F.lit(x) for kv in following.items() for x in kv])
    before = exports.where(F.col("year").isin(list(following))).select(
        pairs[F.col("year")].alias("pair_year"), F.col("year").alias("from_year"), "*"
    )
    after = exports.where(F.col("year").isin(years[1:])).select(
        F.col("year").alias("pair_year"), F.lit(None).cast("int").alias("from_year"), "*"
    )
    both = before.unionByName(after)
    schema = spark_schema(CHANGES)

    def changes(rows: pd.DataFrame) -> pd.DataFrame:
        year = int(rows["pair_year"].iloc[0])
        is_before = rows["from_year"].notna()
        m = []
        for part in (rows[is_before], rows[~is_before]):
            yp = year_presence(part, settings)
            places, activities = yp.codes
            r, c = np.nonzero(yp.M)
            m.append(pd.DataFrame({"country_code": places[r], "product": activities[c], "mcp": 1}))
        out = specialisation_changes(*m)
        out.insert(0, "from_year", int(rows.loc[is_before, "from_year"].iloc[0]))
        out.insert(0, "year", year)
        return out[schema.fieldNames()]

    tables[CHANGES] = both.groupBy("pair_year").applyInPandas(changes, schema)
    return tables


def run_place_activity(
    spark: SparkSession,
    config: Config,
    run,
    table: PlaceActivityTable,
    descriptor: Descriptor,
) -> list[int]:
    """Every stage on the table: descriptions and quarantine, the indicators (the yearly core,
    ``lib.execution.indicators.indicators_from_exports``), the regional measures. Returns the years."""
    from lib.execution.indicators import indicators_from_exports
    from lib.run.workflow import stage, write_indicator_tables

    warehouse = config.output.warehouse
    settings = year_settings(config)
    check_warehouse(spark, warehouse)
    run.source = table.source
    run.row_counts.update({f"place_activity.{k}": v for k, v in table.counts.items()})
    for reason, n in _reason_counts(table.quarantine).items():
        run.row_counts[f"place_activity.quarantined.{reason}"] = n
    rows = table.rows
    wanted = parse_years(config.input.years, "input.years")
    if wanted is not None:
        rows = rows[rows["year"].isin(wanted)]
    if rows.empty:
        raise SystemExit(f"No accepted rows in {table.source} for the years asked.")
    years = sorted(int(y) for y in rows["year"].unique())
    run.years = years
    places = place_codes(table.rows)  # codes from every year: the same in every run of it

    with stage(run, "ingest"):
        write_descriptions(spark, warehouse, run.run_id, table, descriptor, places)
    with stage(run, "indicators"):
        exports = spark.createDataFrame(exports_rows(rows, places))
        names = pd.DataFrame(
            {
                "country_code": places["country_code"],
                "iso3": places["place"],
                "country_name": places["place_name"].fillna(places["place"]),
            }
        )
        descriptions = activity_table(rows)[["product", "activity_name"]].rename(
            columns={"activity_name": "description"}
        )
        tables = indicators_from_exports(
            exports, names, descriptions, settings, config.rca.smoothing_years, years
        )
        try:
            write_indicator_tables(spark, tables, warehouse, run, years)
        finally:
            tables.release()
    with stage(run, "regional"):
        exports = spark.createDataFrame(exports_rows(rows, places)).repartition("year")
        for name, df in regional_tables(exports, settings).items():
            predicate = delta.year_predicate(years)
            delta.write_table(df, warehouse, name, run.run_id, replace_where=predicate)
    catalog.register_tables(spark, config.output)  # with output.catalog_database
    return years


def _reason_counts(quarantine: pd.DataFrame) -> dict[str, int]:
    """Quarantined rows by kind of reason ("duplicate ..., first at line 3" -> "duplicate")."""
    kinds = quarantine["reason"].str.split(r"[:,(]", n=1).str[0].str.strip()
    return {k: int(n) for k, n in kinds.value_counts().items()}
