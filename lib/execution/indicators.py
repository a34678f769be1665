"""Composes the stages into the output tables: flows -> exports -> yearly indicators -> tables.

Every matrix indicator of a year (RCA, M, Fitness, ECI/PCI, proximity, density, COI/COG) is
computed ONCE, by ``lib.measures.yearly.year_indicators``, inside ONE Spark task for that year. WHY
one task a year, placed explicitly: a year's indicators depend only on that year and its matrix
is small (at most ~250 x 5,000), so years are the unit of parallelism. Letting Spark place
years (``groupBy("year")``) hashes them into ``spark.sql.shuffle.partitions`` buckets, several
years to a task, and adaptive execution may then coalesce them all into one task; here a
cluster with as many cores as years runs every year at once.

How the yearly tasks get their rows and write their outputs follows ``output.writer``
(``lib.io.delta_arrow.use_arrow_writer``):

- ``arrow`` (a warehouse the tasks reach as files): ``spark.range(years)`` makes exactly one
  task per year; each reads its year's flows files (listed from the Delta log at the run's
  flows version) and aggregates them with DuckDB (``lib.execution.exports.year_exports_from_files``),
  computes every indicator, writes its ``country_product_year`` and ``product_proximity``
  (and ``product_bicm_links``) Parquet files with pyarrow and returns only the small rows (per country, per product, the
  files it wrote). The driver commits each large table's files in one Delta commit (delta-rs).
- ``spark``: Spark aggregates the flows table to exports and spreads the years over exactly one
  partition each (``lib.measures.matrix.one_partition_per_year``); the yearly tasks return the small
  rows, then the grid and the proximity pairs in two further passes over the same partitions,
  streamed to Spark's Delta writer.

The small rows (a few thousand a year) are collected on the driver as Arrow and shaped into
``country_year``, ``product_year`` and ``fitness_convergence`` there.

A place x activity table (employment by region and industry, trade by SITC product) enters
after the flows: ``indicators_from_exports`` runs the same yearly tasks (the ``spark`` passes)
on its rows (``lib.run.place_activity``).

A year too large for one task (``execution.matrix``, ``lib.execution.distributed.choice``) goes
to the distributed path instead (``lib.execution.distributed.wiring``), whose rows come back in
the same shapes and are written alike.

Must not hold a formula: every number comes from ``lib.measures``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import chain

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_schema

from lib.classifications.products import product_descriptions
from lib.execution.distributed.choice import (
    DISTRIBUTED,
    IN_TASK,
    MatrixShape,
    distributed_partitions,
    year_shapes,
)
from lib.execution.distributed.wiring import announce, split_tasks
from lib.execution.exports import (
    ProductSelection,
    exports_for_indicators,
    year_exports_from_files,
)
from lib.execution.small_tables import country_year_rows, product_year_rows
from lib.execution.years import (
    TABLE_COLUMN,
    conformed_frame,
    each_year_of_partition,
    one_partition_per_year,
    tagged_batches,
    tagged_schema,
)
from lib.io import delta
from lib.io.country_attributes import load_country_attributes
from lib.io.delta_arrow import (
    DataFileWriter,
    data_files_by_year,
    use_arrow_writer,
    write_data_file,
)
from lib.measures.fitness import CONVERGENCE_SCHEMA
from lib.measures.smoothing import source_years, window_exports
from lib.measures.validated_links import bicm_link_blocks
from lib.measures.year_rows import grid_blocks, proximity_blocks
from lib.measures.yearly import YearIndicators, YearSettings, summary_tables, year_indicators
from lib.run import progress
from lib.tables import TABLES, spark_schema

COUNTRY_SUMMARY_SCHEMA = spark_schema("country_year", exclude=["iso3", "country_name"])
PRODUCT_SUMMARY_SCHEMA = spark_schema("product_year", exclude=["description"])
TRADED_SCHEMA = spark_schema("country_year", ["year", "country_code"])
# What a yearly task reports of each data file it wrote itself: its table and Delta add action.
WRITTEN_FILES_SCHEMA = T.StructType(
    [
        T.StructField("year", T.IntegerType(), False),
        T.StructField("table", T.StringType(), False),
        T.StructField("add", T.StringType(), False),
    ]
)
SMALL_SCHEMAS = {
    "country": COUNTRY_SUMMARY_SCHEMA,
    "product": PRODUCT_SUMMARY_SCHEMA,
    "convergence": CONVERGENCE_SCHEMA,
    "traded": TRADED_SCHEMA,
    "files": WRITTEN_FILES_SCHEMA,
}
SMALL_TAGGED = tagged_schema(SMALL_SCHEMAS)
GRID_SCHEMA = spark_schema("country_product_year")
PROXIMITY_SCHEMA = spark_schema("product_proximity")
BICM_LINKS_SCHEMA = spark_schema("product_bicm_links")


def task_written_tables(settings: YearSettings) -> tuple[str, ...]:
    """The large tables the yearly tasks make: the grid, with the product space its proximity
    pairs and, with ``projection = "bicm"``, its validated links."""
    if not settings.product_space:
        return (delta.COUNTRY_PRODUCT_YEAR,)
    bicm = (delta.PRODUCT_BICM_LINKS,) if settings.projection == "bicm" else ()
    return (delta.COUNTRY_PRODUCT_YEAR, delta.PRODUCT_PROXIMITY, *bicm)


def link_blocks(ind: YearIndicators, settings: YearSettings) -> Iterator[pd.DataFrame]:
    """The year's product_bicm_links rows (``lib.measures.validated_links``)."""
    _, products = ind.presence.codes
    yield from bicm_link_blocks(
        ind.year, ind.presence.M, products, settings.bicm_alpha, settings.bicm_validation
    )


@dataclass(frozen=True)
class IndicatorSettings:
    """What the indicator stage needs (resolved from the config by ``lib.run.settings``)."""

    warehouse: str
    writer: str
    products: ProductSelection
    smoothing_years: int
    country_attributes: str | None  # input.country_attributes: a CSV of GDP per capita ...
    year: YearSettings  # the yearly core's options (without the attributes, loaded here)
    matrix: str = IN_TASK  # execution.matrix: auto, in_task or distributed
    partitions: int = 8  # spark.shuffle_partitions: the distributed path's tasks, at least


@dataclass
class IndicatorTables:
    """The output of the yearly tasks for the years computed.

    The small tables are on the driver (Arrow). ``written_files`` lists, per table written by
    the tasks themselves (arrow writer), the Delta add actions to commit; with the Spark writer
    the large tables are lazy DataFrames instead (``country_product_year``,
    ``product_proximity``, ``product_bicm_links``), computed when written.
    """

    country_year: pa.Table
    product_year: pa.Table
    fitness_convergence: pa.Table
    written_files: dict[str, list[dict]]
    country_product_year: DataFrame | None = None
    product_proximity: DataFrame | None = None
    product_bicm_links: DataFrame | None = None
    cached: tuple[DataFrame, ...] = ()
    paths: dict[int, str] = field(default_factory=dict)  # year -> in_task or distributed

    def release(self) -> None:
        for df in self.cached:
            df.unpersist()


def compute_indicators(
    spark: SparkSession,
    stage: IndicatorSettings,
    years: list[int],
    flows_version: int | None,
) -> IndicatorTables:
    """Run the yearly tasks of ``years`` (see the module docstring) and return their output."""
    warehouse = stage.warehouse
    names = delta.read_arrow(
        spark, warehouse, delta.COUNTRIES, ["country_code", "iso3", "country_name"]
    ).to_pandas()
    products = delta.read_arrow(spark, warehouse, delta.PRODUCTS, ["product", "description"])
    attributes = load_country_attributes(stage.country_attributes, names)
    settings = replace(stage.year, attributes=attributes)
    # BACI: an upper bound of each year's shape from the code lists (no pass over the flows).
    level = int(stage.products.level[2:])
    codes = products.column("product").to_pylist()
    n_products = len({str(c)[:level] for c in codes})
    bound = MatrixShape(len(names), n_products, len(names) * n_products)
    shapes = {y: bound for y in years}
    paths = announce(stage.matrix, shapes)
    # With smoothing a year's task needs the exports of its window (lib.measures.smoothing).
    read_years = source_years(years, stage.smoothing_years)
    flow_files = None
    if use_arrow_writer(stage.writer, warehouse) and DISTRIBUTED not in paths.values():
        flows_uri = delta.table_path(warehouse, delta.FLOWS)
        flow_files = data_files_by_year(flows_uri, flows_version, read_years)
    if flow_files is not None:
        small, written, large, cached = _arrow_tasks(spark, stage, settings, flow_files, years)
    else:
        # The bound overstates the nonzeros (a dense year), so the task count errs on the many side.
        partitions = distributed_partitions(stage.partitions, shapes, paths)
        small, written, large, cached = _spark_tasks(
            spark, stage, settings, years, paths, partitions
        )
    descriptions = product_descriptions(products.to_pandas(), stage.products.level)
    return _tables(small, written, large, cached, names, descriptions, paths)


def indicators_from_exports(
    exports: DataFrame,
    names: pd.DataFrame,
    descriptions: pd.DataFrame,
    settings: YearSettings,
    smoothing_years: int,
    years: list[int],
    matrix: str = IN_TASK,
    partitions: int = 8,
) -> IndicatorTables:
    """The same yearly tasks on exports rows that do not come from BACI flows (a place x
    activity table: ``lib.run.place_activity``): ``exports`` has year, country_code, product,
    export_value; ``names`` country_code, iso3, country_name; ``descriptions`` product,
    description. Every country with a row is in ``country_year``. The Spark writer's passes
    (``_spark_tasks``) run them; ``matrix`` (execution.matrix) sends a year to the distributed
    path, under ``auto`` from its shape (one aggregation of ``exports``)."""
    traded = {
        year: group["country_code"].to_numpy()
        for year, group in exports.select("year", "country_code")
        .distinct()
        .toPandas()
        .groupby("year")
    }
    shapes = year_shapes(exports) if matrix != IN_TASK else {}
    shapes = {y: shapes.get(y, MatrixShape(0, 0, 0)) for y in years}
    paths = announce(matrix, shapes) if matrix != IN_TASK else {y: IN_TASK for y in years}
    partitions = distributed_partitions(partitions, shapes, paths)
    exports = _windowed(exports, years, smoothing_years)
    small, written, large, cached = split_tasks(
        exports, traded, settings, years, paths, partitions, _exports_tasks
    )
    return _tables(small, written, large, cached, names, descriptions, paths)


def _tables(small, written, large, cached, names, descriptions, paths) -> IndicatorTables:
    return IndicatorTables(
        country_year=country_year_rows(small["traded"], small["country"], names),
        product_year=product_year_rows(small["product"], descriptions),
        fitness_convergence=small["convergence"],
        written_files=written,
        country_product_year=large.get(delta.COUNTRY_PRODUCT_YEAR),
        product_proximity=large.get(delta.PRODUCT_PROXIMITY),
        product_bicm_links=large.get(delta.PRODUCT_BICM_LINKS),
        cached=cached,
        paths=paths,
    )


# --- the yearly task ------------------------------------------------------------------------

YearOutputs = dict[str, pd.DataFrame]


def _year_outputs(
    year: int,
    exports: pd.DataFrame,
    traded: np.ndarray,
    settings: YearSettings,
    write: Callable[[YearIndicators], list[tuple[str, dict]]] | None,
) -> YearOutputs:
    """One year's small rows; with ``write`` (arrow writer) also that year's large files,
    written by ``write`` and described in the ``files`` rows."""
    ind = year_indicators(year, exports, settings)
    out = summary_tables(ind, settings)
    out["traded"] = pd.DataFrame(
        {"year": np.full(len(traded), year, np.int32), "country_code": traded.astype(np.int32)}
    )
    written = write(ind) if write is not None else []
    out["files"] = pd.DataFrame(
        {
            "year": np.full(len(written), year, dtype=np.int32),
            "table": [name for name, _ in written],
            "add": [json.dumps(add) for _, add in written],
        }
    )
    return out


def _tagged_batches(outputs: YearOutputs) -> Iterator[pa.RecordBatch]:
    """The frames of one year as record batches of the tagged union schema."""
    yield from tagged_batches(outputs, SMALL_TAGGED)


def _collect_small(df: DataFrame) -> dict[str, pa.Table]:
    """The tagged small rows of every year, collected once (Arrow) and split by table."""
    collected = df.toArrow()
    tags = collected.column(TABLE_COLUMN)
    out = {}
    for name, schema in SMALL_SCHEMAS.items():
        rows = collected.filter(pa.compute.equal(tags, name))
        out[name] = rows.select(schema.fieldNames()).cast(to_arrow_schema(schema))
    return out


def _arrow_tasks(
    spark: SparkSession,
    stage: IndicatorSettings,
    settings: YearSettings,
    files: dict[int, list[str]],
    targets: list[int],
):
    """One task per year: read the year's flows files (with smoothing: those of its window,
    each year aggregated on its own), compute, write the large tables' files."""
    years = sorted(y for y in targets if y in files)
    window = stage.smoothing_years
    chapters = stage.products.erratic_chapters
    level, unspecified = stage.products.level, stage.products.exclude_unspecified
    tables = task_written_tables(settings)
    uris = {name: delta.table_path(stage.warehouse, name) for name in tables}
    for name, uri in uris.items():  # before any task writes into the table's folder
        delta.ensure_table(spark, uri, TABLES[name])

    def write(ind: YearIndicators) -> list[tuple[str, dict]]:
        """The year's grid file, written block by block of places, then its proximity files in
        blocks of consecutive product_a (a task never holds a year's grid or its ~50 million
        HS6 pair rows at once), each block written before the next is made."""
        name = delta.COUNTRY_PRODUCT_YEAR
        grid = DataFileWriter(uris[name], name, {"year": ind.year})
        for block in grid_blocks(ind, settings.density_pairs, settings.density_top_k):
            grid.write(pa.Table.from_pandas(block, preserve_index=False))
        add = grid.close()  # None for a year without grid rows
        written = [] if add is None else [(name, add)]
        frames = iter(())
        if delta.PRODUCT_PROXIMITY in uris:
            blocks = proximity_blocks(ind, settings.min_proximity)
            frames = chain(frames, ((delta.PRODUCT_PROXIMITY, block) for block in blocks))
        if delta.PRODUCT_BICM_LINKS in uris:
            links = ((delta.PRODUCT_BICM_LINKS, b) for b in link_blocks(ind, settings))
            frames = chain(frames, links)
        for name, frame in frames:
            if len(frame):
                table = pa.Table.from_pandas(frame, preserve_index=False)
                written.append((name, write_data_file(table, uris[name], name, {"year": ind.year})))
        return written

    def run(marks: str, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for index in batch.column("id").to_pylist():
                year = years[index]
                exports, traded = year_exports_from_files(files[year], level, chapters, unspecified)
                exports = exports.to_pandas()
                if window > 1:  # the other years of the window, tagged with their year
                    earlier = [
                        year_exports_from_files(files[s], level, chapters, unspecified)[0]
                        .to_pandas()
                        .assign(source_year=s)
                        for s in range(year - window + 1, year)
                        if s in files
                    ]
                    exports = pd.concat([exports.assign(source_year=year), *earlier])
                outputs = _year_outputs(year, exports, traded.to_numpy(), settings, write)
                progress.mark_finished(marks, str(year))
                yield from _tagged_batches(outputs)

    one_task_per_year = spark.range(0, len(years), numPartitions=max(1, len(years)))
    with progress.finished_tasks() as finished:  # the indicators stage advances year by year
        tasks = one_task_per_year.mapInArrow(partial(run, finished.folder), SMALL_TAGGED)
        small = _collect_small(tasks)
    written: dict[str, list[dict]] = {name: [] for name in tables}
    for row in small.pop("files").to_pylist():
        written[row["table"]].append(json.loads(row["add"]))
    return small, written, {}, ()


def _spark_tasks(
    spark: SparkSession,
    stage: IndicatorSettings,
    settings: YearSettings,
    years: list[int],
    paths: dict[int, str],
    partitions: int,
):
    """Spark aggregates the flows; the in-task years run on one partition per year, three
    passes (small rows, grid, proximity pairs), the large ones streamed to Spark's writer;
    the distributed years on the distributed path, in ``partitions`` tasks."""
    window = stage.smoothing_years
    flows = delta.read_table(spark, stage.warehouse, delta.FLOWS).where(
        F.col("year").isin(source_years(years, window))
    )
    traded = {
        year: group["country_code"].to_numpy()
        for year, group in _traded(flows).toPandas().groupby("year")
    }
    exports = _windowed(exports_for_indicators(flows, stage.products), years, window)
    return split_tasks(exports, traded, settings, years, paths, partitions, _exports_tasks)


def _windowed(exports: DataFrame, years: list[int], window: int) -> DataFrame:
    """With smoothing, each year's rows copied to the target years whose window holds them."""
    return window_exports(exports, years, window) if window > 1 else exports


def _exports_tasks(
    exports: DataFrame, traded: dict[int, np.ndarray], settings: YearSettings, years: list[int]
):
    """The yearly tasks of ``_spark_tasks`` on exports rows (year, country_code, product,
    export_value) and the countries of each year's country table (``traded``)."""
    exports = one_partition_per_year(exports, years).persist(StorageLevel.MEMORY_AND_DISK)

    def small_rows(year: int, rows: pd.DataFrame) -> Iterator[pa.RecordBatch]:
        outputs = _year_outputs(year, rows, traded.get(year, np.empty(0)), settings, None)
        yield from _tagged_batches(outputs)

    def grid(year: int, rows: pd.DataFrame) -> Iterator[pa.RecordBatch]:
        # Fitness is not in the grid: skip it in this pass.
        ind = year_indicators(year, rows, settings.without_fitness())
        for block in grid_blocks(ind, settings.density_pairs, settings.density_top_k):
            yield from _frame_batches(block, GRID_SCHEMA)

    def pairs(year: int, rows: pd.DataFrame) -> Iterator[pa.RecordBatch]:
        ind = year_indicators(year, rows, settings.without_fitness())
        for block in proximity_blocks(ind, settings.min_proximity):
            yield from _frame_batches(block, PROXIMITY_SCHEMA)

    def bicm_links(year: int, rows: pd.DataFrame) -> Iterator[pa.RecordBatch]:
        ind = year_indicators(year, rows, settings.without_fitness())
        for block in link_blocks(ind, settings):
            yield from _frame_batches(block, BICM_LINKS_SCHEMA)

    small = _collect_small(exports.mapInArrow(each_year_of_partition(small_rows), SMALL_TAGGED))
    small.pop("files")
    large = {
        delta.COUNTRY_PRODUCT_YEAR: exports.mapInArrow(each_year_of_partition(grid), GRID_SCHEMA)
    }
    if settings.product_space:
        large[delta.PRODUCT_PROXIMITY] = exports.mapInArrow(
            each_year_of_partition(pairs), PROXIMITY_SCHEMA
        )
    if delta.PRODUCT_BICM_LINKS in task_written_tables(settings):
        large[delta.PRODUCT_BICM_LINKS] = exports.mapInArrow(
            each_year_of_partition(bicm_links), BICM_LINKS_SCHEMA
        )
    return small, {}, large, (exports,)


def _frame_batches(frame: pd.DataFrame, schema: T.StructType) -> Iterator[pa.RecordBatch]:
    arrow = to_arrow_schema(schema)
    table = pa.Table.from_pandas(conformed_frame(frame, schema), schema=arrow, preserve_index=False)
    yield from table.to_batches()


def _traded(flows: DataFrame) -> DataFrame:
    """year, country_code of every country that exported or imported."""
    return (
        flows.select("year", F.col("exporter").alias("country_code"))
        .union(flows.select("year", F.col("importer").alias("country_code")))
        .distinct()
    )
