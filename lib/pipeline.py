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

from dataclasses import dataclass
from functools import partial

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lib.config import Config, FitnessConfig
from lib.exports import drop_small_exporters_and_products, exports_for_indicators
from lib.fitness import CONVERGENCE_SCHEMA, fitness_complexity
from lib.indicators import YearSettings, year_grid, year_proximity, year_summary
from lib.matrices import per_year_tables
from lib.product_space import PROXIMITY_SCHEMA
from lib.products import product_descriptions
from lib.rca import binary_presence, revealed_comparative_advantage
from lib.tables import spark_schema

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


@dataclass
class IndicatorTables:
    country_year: DataFrame
    product_year: DataFrame
    country_product_year: DataFrame
    product_proximity: DataFrame | None
    fitness_convergence: DataFrame
    cached: list[DataFrame]

    def release(self) -> None:
        for df in self.cached:
            df.unpersist()


def compute_indicators(
    flows: DataFrame,
    countries: DataFrame,
    products: DataFrame,
    config: Config,
    years: list[int] | None = None,
) -> IndicatorTables:
    """The indicator tables of the given years (lazy: computed when written).

    Flows are aggregated to exports once (Spark), kept partitioned by year, then each year is
    computed by ``lib.indicators`` in three passes of one task per year, one per kind of output:
    the per-country and per-product rows (small, kept for the two tables that use them), the
    country x product grid and the proximity pairs (large, each streamed to its table).
    """
    if years is not None:
        flows = flows.where(F.col("year").isin(years))
    all_exports, _ = exports_for_indicators(flows, config)
    exports = (
        all_exports.select(
            F.col("year").cast("int"),
            F.col("country_code").cast("int"),
            F.col("product").cast("string"),
            F.col("export_value").cast("double"),
        )
        .repartition("year")  # the passes below group by year: no further shuffle
        .persist(StorageLevel.MEMORY_AND_DISK)
    )

    in_pass = _fitness_in_pass(exports, config.fitness)
    settings = YearSettings.from_config(config, fitness=in_pass)
    summary = per_year_tables(exports, partial(year_summary, settings=settings), SUMMARY_SCHEMAS)
    country, product, convergence = summary["country"], summary["product"], summary["convergence"]
    if not in_pass:
        country, product, convergence = _fitness_from_spark(exports, country, product, config)

    grid = per_year_tables(
        exports, lambda year, rows: {"grid": year_grid(year, rows, settings)}, {"grid": GRID_SCHEMA}
    )["grid"]
    phi = _proximity(exports, settings) if config.product_space.enabled else None

    country_year = _country_year(flows, country, countries)
    product_year = _product_year(product, products, config.products.level)
    return IndicatorTables(country_year, product_year, grid, phi, convergence, [exports])


def _fitness_in_pass(exports: DataFrame, cfg: FitnessConfig) -> bool:
    """Whether every year's Fitness runs in its yearly task (``lib.fitness``'s per_year path).

    ``auto`` checks the matrix size of each year (countries x products with exports, before
    the thresholds); if one is above ``max_cells_per_task``, Fitness runs with lib.fitness's
    Spark paths instead (country blocks for the big years).
    """
    if cfg.execution != "auto":
        return cfg.execution == "per_year"
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


def _country_year(flows: DataFrame, country: DataFrame, countries: DataFrame) -> DataFrame:
    """Every country that traded in the year (exporter or importer), with its yearly rows."""
    traded = (
        flows.select("year", F.col("exporter").alias("country_code"))
        .union(flows.select("year", F.col("importer").alias("country_code")))
        .distinct()
    )
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
