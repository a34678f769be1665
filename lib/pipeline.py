"""Composes the stages into the output tables: flows -> exports -> RCA -> indicators -> tables.

Each stage is a pure function in its own module; this module only wires them together and
shapes the four BI tables (README, "Data dictionary"). Flows are aggregated to exports by Spark
(``lib.exports``); the RCA, M and every matrix indicator of a year are then computed in one
Spark task per year by ``lib.indicators``, which calls the numpy cores of ``lib.rca``'s
definitions, ``lib.fitness``, ``lib.eci`` and ``lib.product_space``:

- ``country_year``         one row per country that traded in the year
- ``product_year``         one row per product exported in the year
- ``country_product_year`` one row per active country x active product (density is defined for
                           every pair, also those with no exports)
- ``product_proximity``    non-zero proximities
- ``fitness_convergence``  steps taken and final change of the Fitness iteration per year

Zero cases: countries and products that are dropped (thresholds) or have zero diversity /
ubiquity keep their rows with null indicators; they never affect the rest of the year.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import from_arrow_schema

from lib.config import Config
from lib.exports import (
    drop_small_exporters_and_products,
    exports_for_indicators,
    product_at_level,
    year_exports_from_files,
)
from lib.fitness import CONVERGENCE_SCHEMA, fitness_complexity
from lib.indicators import (
    YearIndicators,
    YearSettings,
    grid_rows,
    proximity_blocks,
    summary_tables,
    year_grid,
    year_indicators,
    year_proximity,
    year_summary,
)
from lib.io import delta
from lib.io.delta_arrow import data_files_by_year, use_arrow_writer, write_data_file
from lib.matrices import per_year_tables
from lib.product_space import PROXIMITY_SCHEMA
from lib.products import product_descriptions
from lib.rca import binary_presence, revealed_comparative_advantage
from lib.tables import TABLES, spark_schema

COUNTRY_SUMMARY_SCHEMA = spark_schema(
    "country_year", exclude=["iso3", "country_name"]
)  # joined later
PRODUCT_SUMMARY_SCHEMA = spark_schema("product_year", exclude=["description"])  # joined later
SUMMARY_SCHEMAS = {
    "country": COUNTRY_SUMMARY_SCHEMA,
    "product": PRODUCT_SUMMARY_SCHEMA,
    "convergence": CONVERGENCE_SCHEMA,
}
GRID_SCHEMA = spark_schema("country_product_year")
# What a yearly task reports of each data file it wrote itself: its table and Delta add action.
WRITTEN_FILES_SCHEMA = T.StructType(
    [
        T.StructField("year", T.IntegerType(), False),
        T.StructField("table", T.StringType(), False),
        T.StructField("add", T.StringType(), False),
    ]
)
TASK_WRITTEN_TABLES = (delta.COUNTRY_PRODUCT_YEAR, delta.PRODUCT_PROXIMITY)


@dataclass
class IndicatorTables:
    """The output tables, lazy. With the arrow writer the yearly tasks write the files of
    country_product_year and product_proximity themselves: those two are None and
    ``written_files`` lists the files (year, table, add) for the driver to commit."""

    country_year: DataFrame
    product_year: DataFrame
    country_product_year: DataFrame | None
    product_proximity: DataFrame | None
    fitness_convergence: DataFrame
    cached: list[DataFrame]
    written_files: DataFrame | None = None
    task_written: tuple[str, ...] = ()  # the tables whose files are in written_files

    def release(self) -> None:
        for df in self.cached:
            df.unpersist()


def compute_indicators(
    flows: DataFrame,
    countries: DataFrame,
    products: DataFrame,
    config: Config,
    years: list[int] | None = None,
    flows_version: int | None = None,
) -> IndicatorTables:
    """The indicator tables of the given years (lazy: computed when written).

    Flows are aggregated to exports once, kept partitioned by year; then one task per year
    computes that year's indicators with ``lib.indicators``. How follows ``output.writer``
    (``lib.io.delta_arrow.use_arrow_writer``):

    - arrow (local warehouse): one task per year reads the year's flows files (``flows_version``
      of the table, listed from its Delta log) and aggregates them with DuckDB. Then ONE pass:
      each yearly task computes everything once, writes its grid and proximity Parquet files
      with pyarrow and returns only the small per-country / per-product rows and the
      descriptions of the files it wrote (committed by the caller, ``written_files``).
    - spark: Spark aggregates the flows table; then three passes of one task per year, one per
      kind of output: the per-country and per-product rows (small, kept for the two tables that
      use them), then the grid and the proximity pairs (large, each streamed from its pass to
      Spark's Delta writer).
    """
    arrow = use_arrow_writer(config.output.writer, config.output.warehouse)
    flow_files = None
    if arrow:
        flows_uri = delta.table_path(config.output.warehouse, delta.FLOWS)
        flow_files = data_files_by_year(flows_uri, flows_version, years)
    if flow_files is not None:
        tagged = _exports_from_files(flows.sparkSession, flow_files, config)
        exports = tagged.where(F.col("kind") == "export").drop("kind")
        traded = tagged.where(F.col("kind") == "traded").select("year", "country_code")
    else:
        if years is not None:
            flows = flows.where(F.col("year").isin(years))
        tagged = _exports_from_flows(flows, config)
        exports, traded = tagged, _traded(flows)

    in_pass = _fitness_in_pass(exports, countries, products, config)
    settings = YearSettings.from_config(config, fitness=in_pass)
    grid = phi = files = None
    task_written: tuple[str, ...] = ()
    if arrow:
        task_written = TASK_WRITTEN_TABLES if settings.product_space else TASK_WRITTEN_TABLES[:1]
        summary = _one_pass_writing_files(exports, settings, config.output.warehouse, task_written)
        files = summary["files"]
    else:
        summary = per_year_tables(
            exports, partial(year_summary, settings=settings), SUMMARY_SCHEMAS
        )
        grid = per_year_tables(
            exports,
            lambda year, rows: {"grid": year_grid(year, rows, settings)},
            {"grid": GRID_SCHEMA},
        )["grid"]
        phi = _proximity(exports, settings) if config.product_space.enabled else None
    country, product, convergence = summary["country"], summary["product"], summary["convergence"]
    if not in_pass:
        country, product, convergence = _fitness_from_spark(exports, country, product, config)

    country_year = _country_year(traded, country, countries)
    product_year = _product_year(product, products, config.products.level)
    return IndicatorTables(
        country_year, product_year, grid, phi, convergence, [tagged], files, task_written
    )


# One task's output per year when the flows are read from their files: export rows
# (kind = "export") and the countries that traded (kind = "traded", product and value null).
TAGGED_EXPORTS_ARROW = pa.schema(
    [
        ("kind", pa.string()),
        ("year", pa.int32()),
        ("country_code", pa.int32()),
        ("product", pa.string()),
        ("export_value", pa.float64()),
    ]
)


def _exports_from_files(
    spark: SparkSession, files: dict[int, list[str]], config: Config
) -> DataFrame:
    """Exports and traded countries of each year, one task per year reading the year's flows
    files (``lib.exports.year_exports_from_files``); partitioned by year and kept (the yearly
    passes read them, and the traded countries are joined later)."""
    years = sorted(files)
    level, products = config.products.level, config.products
    chapters = products.erratic_chapters if products.exclude_erratic else ()

    def read_years(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for index in batch.column("id").to_pylist():
                year = years[index]
                exports, traded = year_exports_from_files(
                    files[year], level, chapters, products.exclude_unspecified
                )
                n = exports.num_rows
                yield from pa.Table.from_arrays(
                    [
                        pa.repeat(pa.scalar("export"), n),
                        pa.repeat(pa.scalar(year, pa.int32()), n),
                        *exports.columns,
                    ],
                    schema=TAGGED_EXPORTS_ARROW,
                ).to_batches()
                yield pa.RecordBatch.from_arrays(
                    [
                        pa.repeat(pa.scalar("traded"), len(traded)),
                        pa.repeat(pa.scalar(year, pa.int32()), len(traded)),
                        traded,
                        pa.nulls(len(traded), pa.string()),
                        pa.nulls(len(traded), pa.float64()),
                    ],
                    schema=TAGGED_EXPORTS_ARROW,
                )

    one_task_per_year = spark.range(0, len(years), numPartitions=max(1, len(years)))
    return (
        one_task_per_year.mapInArrow(read_years, from_arrow_schema(TAGGED_EXPORTS_ARROW))
        .repartition("year")  # the yearly passes group by year: no further shuffle
        .persist(StorageLevel.MEMORY_AND_DISK)
    )


def _exports_from_flows(flows: DataFrame, config: Config) -> DataFrame:
    """Exports of each year aggregated by Spark from the flows table, partitioned by year and
    kept (the yearly passes read them)."""
    all_exports, _ = exports_for_indicators(flows, config)
    return (
        all_exports.select(
            F.col("year").cast("int"),
            F.col("country_code").cast("int"),
            F.col("product").cast("string"),
            F.col("export_value").cast("double"),
        )
        .repartition("year")
        .persist(StorageLevel.MEMORY_AND_DISK)
    )


def _traded(flows: DataFrame) -> DataFrame:
    """year, country_code of every country that exported or imported."""
    return (
        flows.select("year", F.col("exporter").alias("country_code"))
        .union(flows.select("year", F.col("importer").alias("country_code")))
        .distinct()
    )


def _one_pass_writing_files(
    exports: DataFrame, settings: YearSettings, warehouse: str, tables: tuple[str, ...]
) -> dict[str, DataFrame]:
    """The summary tables of every year, and ``files``: the grid and proximity files each
    yearly task wrote (year, table, add), for one Delta commit per table (the caller's).

    The proximity pairs are written in blocks of consecutive product_a (a file each, both
    orders): a task never holds a year's ~50 million HS6 pair rows at once, and a reader
    looking for one product's neighbours skips the other files by their statistics.
    """
    spark = exports.sparkSession
    uris = {name: delta.table_path(warehouse, name) for name in tables}
    for name, uri in uris.items():  # before any task writes into the table's folder
        delta.ensure_table(spark, uri, TABLES[name])

    def frames(ind: YearIndicators) -> Iterator[tuple[str, pd.DataFrame]]:
        """The year's file contents, one at a time (each written before the next is made)."""
        yield delta.COUNTRY_PRODUCT_YEAR, grid_rows(ind)
        if delta.PRODUCT_PROXIMITY in uris:
            for block in proximity_blocks(ind, settings.min_proximity):
                yield delta.PRODUCT_PROXIMITY, block

    def compute(year: int, rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
        ind = year_indicators(year, rows, settings)
        tables = summary_tables(ind, settings)
        written = [
            (name, write_data_file(_arrow(frame), uris[name], name, {"year": year}))
            for name, frame in frames(ind)
            if len(frame)
        ]
        tables["files"] = pd.DataFrame(
            {
                "year": np.full(len(written), year, dtype=np.int32),
                "table": [name for name, _ in written],
                "add": [json.dumps(add) for _, add in written],
            }
        )
        return tables

    return per_year_tables(exports, compute, {**SUMMARY_SCHEMAS, "files": WRITTEN_FILES_SCHEMA})


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """A frame's rows as Arrow, NaN as null (what Spark's Arrow conversion does)."""
    return pa.Table.from_pandas(frame, preserve_index=False)


def _fitness_in_pass(
    exports: DataFrame, countries: DataFrame, products: DataFrame, config: Config
) -> bool:
    """Whether every year's Fitness runs in its yearly task (``lib.fitness``'s per_year path).

    ``auto`` checks the matrix size of each year (countries x products with exports, before
    the thresholds); if one is above ``max_cells_per_task``, Fitness runs with lib.fitness's
    Spark paths instead (country blocks for the big years). The code lists bound every year's
    size (the ingest quarantines flows with other codes): when that bound is within the limit,
    as for BACI at HS6 (~240 x ~5,400), the exports are not counted (~15 s at HS6).
    """
    cfg = config.fitness
    if cfg.execution != "auto":
        return cfg.execution == "per_year"
    level = config.products.level
    n_products = products.select(product_at_level(level)).distinct().count()
    if countries.count() * n_products <= cfg.max_cells_per_task:
        return True
    cells = exports.groupBy("year").agg(
        (F.countDistinct("country_code").cast("long") * F.countDistinct("product")).alias("cells")
    )
    return cells.where(F.col("cells") > cfg.max_cells_per_task).limit(1).count() == 0


def _fitness_from_spark(
    exports: DataFrame, country: DataFrame, product: DataFrame, config: Config
) -> tuple[DataFrame, DataFrame, DataFrame]:
    """Fitness by lib.fitness (country blocks for big years), joined into the yearly rows."""
    kept = exports.transform(
        drop_small_exporters_and_products(
            config.countries.min_export_value, config.products.min_world_export
        )
    )
    mcp = kept.transform(revealed_comparative_advantage).transform(
        binary_presence(config.rca.threshold, config.rca.strict)
    )
    fitness_c, fitness_p, convergence = fitness_complexity(mcp, config.fitness)
    columns = ["fitness", "log10_fitness", "fitness_rank"]
    country = country.drop(*columns).join(fitness_c, ["year", "country_code"], "left")
    columns = ["complexity", "log10_complexity", "complexity_rank"]
    product = product.drop(*columns).join(fitness_p, ["year", "product"], "left")
    return country, product, convergence


def _proximity(exports: DataFrame, settings: YearSettings) -> DataFrame:
    """Product proximity per year: year, product_a, product_b, proximity.

    Only pairs with proximity > 0 (and >= ``min_proximity``) are listed, in BOTH orders
    ((a, b) and (b, a)), never the diagonal. WHY both: "neighbours of product X" is then a single
    filter on product_a, with no union in BI tools; the task emits each pair once (a < b) and the
    mirror row is added by a narrow ``explode``, so the yearly task holds half the rows.
    """
    pairs = per_year_tables(
        exports,
        lambda year, rows: {"pairs": year_proximity(year, rows, settings)},
        {"pairs": PROXIMITY_SCHEMA},
    )["pairs"]
    both = F.array(
        F.struct(F.col("product_a").alias("a"), F.col("product_b").alias("b")),
        F.struct(F.col("product_b").alias("a"), F.col("product_a").alias("b")),
    )
    return pairs.select("year", F.explode(both).alias("pair"), "proximity").select(
        "year",
        F.col("pair.a").alias("product_a"),
        F.col("pair.b").alias("product_b"),
        "proximity",
    )


def _country_year(traded: DataFrame, country: DataFrame, countries: DataFrame) -> DataFrame:
    """Every country that traded in the year (exporter or importer), with its yearly rows."""
    names = countries.select("country_code", "iso3", "country_name")
    return (
        traded.join(country, ["year", "country_code"], "left")
        .join(F.broadcast(names), "country_code", "left")
        .select(
            "year",
            "country_code",
            "iso3",
            "country_name",
            F.coalesce("export_value", F.lit(0.0)).alias("export_value"),
            "diversification",
            "fitness",
            "log10_fitness",
            "fitness_rank",
            "eci",
            "eci_rank",
            "coi",
            "mean_product_complexity",
        )
    )


def _product_year(product: DataFrame, products: DataFrame, level: str) -> DataFrame:
    descriptions = product_descriptions(products, level)
    return product.join(F.broadcast(descriptions), "product", "left").select(
        "year",
        "product",
        "description",
        "world_export_value",
        "ubiquity",
        "complexity",
        "log10_complexity",
        "complexity_rank",
        "pci",
    )
