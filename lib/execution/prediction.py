"""The prediction tables from the indicator grid: one Spark task per year t (issue 22).

Each task receives year t's grid rows (``country_product_year``), the presence of year t + h
(relabelled to t, for the outcomes) and the scores other methods made for t (the classifiers',
``lib.prediction.classifiers``), and runs the yearly core ``lib.prediction.yearly``: candidates,
scores, ranks, and the metrics of every method -- so the backtest of a (method, year) is
computed inside that year's task, never on the driver. WHY one task a year, placed as the
indicators' tasks are (``lib.execution.years.one_partition_per_year``): a year's rows are at
most places x activities (~1.25 million at HS6), and Spark joins and windows over the whole
grid cost several times the numpy work on this scale.

How product_opportunities is written follows ``output.writer``: ``arrow``, each task writes its
year's Parquet file (``lib.io.delta_arrow``) and returns the file's add action, committed by
the driver in one transaction; ``spark``, a second pass over the same partitions streams the
rows to Spark's Delta writer. A local grid's year files are read by the yearly task itself,
in the same Python worker that scores them (no cache; the second pass reads them again). The backtests' rows (a few per year and method, one per place)
are collected as Arrow. With growth settings, the same task makes year t's SPS growth forecasts
(``lib.prediction.growth``) from the countries' states it is given (every year's, a few
thousand rows; it uses those up to t): no Spark job of their own. Must not: give a task any row
of a year after t but the outcomes'.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_schema

from lib.execution.years import (
    TABLE_COLUMN,
    conformed_frame,
    each_year_of_partition,
    one_partition_per_year,
    tagged_batches,
    tagged_schema,
)
from lib.io.delta_arrow import write_data_file
from lib.prediction.growth import FORECAST_SCHEMA, base_year_forecasts
from lib.prediction.settings import GrowthSettings, PredictionSettings
from lib.prediction.yearly import year_tables
from lib.tables import spark_schema, spark_type

OPPORTUNITIES = "product_opportunities"
OPPORTUNITIES_SCHEMA = spark_schema(OPPORTUNITIES)
WRITTEN_SCHEMA = T.StructType([T.StructField("add", T.StringType(), False)])
SMALL_SCHEMAS = {
    "backtest": spark_schema("prediction_backtest"),
    "place": spark_schema("prediction_backtest_place"),
    "growth": FORECAST_SCHEMA,
    "files": WRITTEN_SCHEMA,
}
SMALL_TAGGED = tagged_schema(SMALL_SCHEMAS)
INPUT_COLUMNS = {
    "role": "string",  # now (year t's grid), later (t + h, relabelled t), score (other methods)
    "year": "int",
    "country_code": "int",
    "product": "string",
    "rca": "double",
    "mcp": "int",
    "density": "double",
    "method": "string",
    "score": "double",
}

INPUT_SCHEMA = T.StructType(
    [T.StructField(name, spark_type(kind), True) for name, kind in INPUT_COLUMNS.items()]
)


@dataclass
class PredictionOutputs:
    """The backtests' and growth forecasts' rows (Arrow, on the driver); the add actions of the
    opportunities' files (arrow writer) or their rows (lazy, Spark writer); the persisted input
    to release."""

    backtest: pa.Table
    backtest_place: pa.Table
    growth_forecast: pa.Table  # no rows without growth settings
    opportunity_files: list[dict]
    opportunities: DataFrame | None
    cached: DataFrame | None  # None: the tasks read the grid's files, nothing is cached

    def release(self) -> None:
        if self.cached is not None:
            self.cached.unpersist()


def _rows(df: DataFrame, columns: dict[str, F.Column]) -> DataFrame:
    """``df`` as input rows: the columns given, the others null."""
    return df.select(
        *[
            columns.get(name, F.lit(None)).cast(kind).alias(name)
            for name, kind in INPUT_COLUMNS.items()
        ]
    )


def task_input(
    grid: DataFrame, scores: DataFrame | None, years: list[int], horizon: int
) -> DataFrame:
    """Every year's rows (see module doc), one partition a year."""
    col = F.col
    now = _rows(
        grid, {"role": F.lit("now"), **{c: col(c) for c in INPUT_COLUMNS if c in grid.columns}}
    )
    later_years = [y + horizon for y in years if y + horizon in set(years)]
    later = _rows(
        grid.where(col("year").isin(later_years)),
        {
            "role": F.lit("later"),
            "year": col("year") - F.lit(horizon),
            "country_code": col("country_code"),
            "product": col("product"),
            "mcp": col("mcp"),
        },
    )
    rows = now.unionByName(later)
    if scores is not None:
        rows = rows.unionByName(
            _rows(scores, {"role": F.lit("score"), **{c: col(c) for c in scores.columns}})
        )
    return one_partition_per_year(rows, years)


def _from_files(files: dict[int, list[str]], years: list[int], horizon: int):
    """A ``mapInArrow`` function over ``spark.range(len(years))``: task i reads year i's grid
    files (and those of its t + h) with pyarrow and yields them as the task's input rows."""
    import pyarrow.parquet as pq

    columns = ["country_code", "product", "rca", "mcp", "density"]
    arrow = to_arrow_schema(INPUT_SCHEMA)

    def read(year: int, role: str, as_year: int) -> pa.Table:
        parts = [pq.read_table(f, columns=columns) for f in files.get(year, [])]
        table = pa.concat_tables(parts) if parts else None
        if table is None:
            return arrow.empty_table()
        n = table.num_rows
        table = table.append_column("role", pa.array([role] * n, pa.string()))
        table = table.append_column("year", pa.array([as_year] * n, pa.int32()))
        for name in ("method", "score"):
            table = table.append_column(name, pa.nulls(n, arrow.field(name).type))
        return table.select(arrow.names).cast(arrow)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for index in batch.column("id").to_pylist():
                year = years[index]
                yield from read(year, "now", year).to_batches()
                if year + horizon in files:
                    yield from read(year + horizon, "later", year).to_batches()

    return run


def prediction_outputs(
    spark: SparkSession,
    grid: DataFrame | None,
    scores: DataFrame | None,
    settings: PredictionSettings,
    years: list[int],
    opportunities_uri: str | None,
    grid_files: dict[int, list[str]] | None = None,
    growth: tuple[pd.DataFrame, GrowthSettings] | None = None,
) -> PredictionOutputs:
    """Run the yearly tasks; ``opportunities_uri``: the tasks write the table's files there
    (arrow writer), else ``opportunities`` holds the rows for Spark's writer. ``grid_files``
    (the grid's Parquet files by year, a local table) and no other method's scores: each task
    reads its years' files itself (no shuffle of the grid; as the indicators' tasks read the
    flows), else Spark spreads the grid's rows over one partition a year. ``growth``: the
    countries' states (``lib.prediction.growth.ordered_states``) and the SPS settings, for the
    growth forecasts of each year."""
    reader = None  # with grid_files: each task's own rows, read in that task
    if grid_files is not None and scores is None:
        reader = _from_files(grid_files, years, settings.horizon)
        rows = spark.range(0, len(years), numPartitions=max(1, len(years)))
    else:
        rows = task_input(grid, scores, years, settings.horizon)
        rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
    known = set(years)
    h = settings.horizon

    def tables(year: int, frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
        role = frame["role"]
        later = frame[role == "later"] if year + h in known else None
        other = frame[role == "score"]
        return year_tables(
            year,
            frame[role == "now"],
            later,
            other if len(other) else None,
            settings.methods,
            settings.entry_below,
            h,
            settings.k,
            (settings.bicm_alpha, settings.bicm_validation),
        )

    def small(year: int, frame: pd.DataFrame) -> Iterator[pa.RecordBatch]:
        out = tables(year, frame)
        opportunities = out.pop("opportunities")
        if opportunities_uri is not None and len(opportunities):
            file_rows = conformed_frame(opportunities, OPPORTUNITIES_SCHEMA)
            table = pa.Table.from_pandas(file_rows, preserve_index=False)
            add = write_data_file(table, opportunities_uri, OPPORTUNITIES, {"year": year})
            out["files"] = pd.DataFrame({"add": [json.dumps(add)]})
        if growth is not None:
            out["growth"] = base_year_forecasts(growth[0], year, growth[1])
        yield from tagged_batches(out, SMALL_TAGGED)

    def large(year: int, frame: pd.DataFrame) -> Iterator[pa.RecordBatch]:
        rows_ = conformed_frame(tables(year, frame)["opportunities"], OPPORTUNITIES_SCHEMA)
        arrow = to_arrow_schema(OPPORTUNITIES_SCHEMA)
        yield from pa.Table.from_pandas(rows_, schema=arrow, preserve_index=False).to_batches()

    def per_year(compute):
        """The mapInArrow function of ``compute``; with a reader, fed by it in the same task.
        WHY: a year's grid rows (~180,000) then never cross into the JVM and back (nor are
        cached there): that round trip cost several times the year's numpy work."""
        run = each_year_of_partition(compute)
        return run if reader is None else (lambda batches: run(reader(batches)))

    collected = rows.mapInArrow(per_year(small), SMALL_TAGGED).toArrow()
    tags = collected.column(TABLE_COLUMN)
    split = {
        name: collected.filter(pa.compute.equal(tags, name)).select(schema.fieldNames())
        for name, schema in SMALL_SCHEMAS.items()
    }
    files = [json.loads(a) for a in split["files"].column("add").to_pylist()]
    opportunities = None
    if opportunities_uri is None:
        opportunities = rows.mapInArrow(per_year(large), OPPORTUNITIES_SCHEMA)
    return PredictionOutputs(
        split["backtest"],
        split["place"],
        split["growth"],
        files,
        opportunities,
        None if reader else rows,
    )
