"""Composes the stages into the output tables: flows -> exports -> RCA -> indicators -> tables.

Each stage is a pure function in its own module; this module only wires them together and
shapes the four BI tables (README, "Data dictionary"):

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

from pyspark import StorageLevel
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lib.config import Config
from lib.eci import economic_complexity
from lib.exports import exports_for_indicators
from lib.fitness import fitness_complexity
from lib.product_space import density_and_outlook, proximity
from lib.products import product_descriptions
from lib.rca import binary_presence, diversification, revealed_comparative_advantage, ubiquity


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
    if years is not None:
        flows = flows.where(F.col("year").isin(years))
    all_exports, kept = exports_for_indicators(flows, config)
    all_exports = all_exports.persist(StorageLevel.MEMORY_AND_DISK)

    mcp = (
        kept.transform(revealed_comparative_advantage)
        .transform(binary_presence(config.rca.threshold, config.rca.strict))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    indicator_input = mcp.select("year", "country_code", "product", "export_value", "rca", "mcp")

    fitness_c, fitness_p, convergence = fitness_complexity(indicator_input, config.fitness)
    eci_c, pci_p = economic_complexity(indicator_input, config.eci)
    if config.product_space.enabled:
        phi = proximity(indicator_input, config.product_space)
        density_cp, coi_c = density_and_outlook(
            indicator_input, pci_p, config.product_space, config.eci
        )
    else:
        phi = None
        density_cp = indicator_input.select(
            "year",
            "country_code",
            "product",
            F.lit(None).cast("double").alias("density"),
            F.lit(None).cast("double").alias("cog"),
        )
        coi_c = indicator_input.select(
            "year", "country_code", F.lit(None).cast("double").alias("coi")
        ).distinct()

    country_year = _country_year(flows, all_exports, mcp, countries, fitness_c, eci_c, coi_c)
    product_year = _product_year(
        all_exports, mcp, products, fitness_p, pci_p, config.products.level
    )
    country_product_year = _country_product_year(mcp, density_cp)
    return IndicatorTables(
        country_year, product_year, country_product_year, phi, convergence, [all_exports, mcp]
    )


def _rank(column: str) -> F.Column:
    """1 = highest; null values get a null rank."""
    window = Window.partitionBy("year").orderBy(F.col(column).desc_nulls_last())
    return F.when(F.col(column).isNotNull(), F.rank().over(window))


def _country_year(flows, all_exports, mcp, countries, fitness_c, eci_c, coi_c) -> DataFrame:
    traded = (
        flows.select("year", F.col("exporter").alias("country_code"))
        .union(flows.select("year", F.col("importer").alias("country_code")))
        .distinct()
    )
    totals = all_exports.groupBy("year", "country_code").agg(
        F.sum("export_value").alias("export_value")
    )
    names = countries.select("country_code", "iso3", "country_name")
    return (
        traded.join(totals, ["year", "country_code"], "left")
        .join(diversification(mcp), ["year", "country_code"], "left")
        .join(fitness_c, ["year", "country_code"], "left")
        .join(eci_c, ["year", "country_code"], "left")
        .join(coi_c, ["year", "country_code"], "left")
        .join(names, "country_code", "left")
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


def _product_year(all_exports, mcp, products, fitness_p, pci_p, level: str) -> DataFrame:
    world = all_exports.groupBy("year", "product").agg(
        F.sum("export_value").alias("world_export_value")
    )
    return (
        world.join(ubiquity(mcp), ["year", "product"], "left")
        .join(fitness_p, ["year", "product"], "left")
        .join(pci_p, ["year", "product"], "left")
        .join(product_descriptions(products, level), "product", "left")
        .select(
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
    )


def _country_product_year(mcp: DataFrame, density_cp: DataFrame) -> DataFrame:
    keys = ["year", "country_code", "product"]
    values = mcp.select(*keys, "export_value", "rca", "rca_difference", "mcp")
    # A pair without exports has country share 0, so its additive RCA is minus the world share.
    world_share = mcp.select(
        "year",
        "product",
        (F.col("world_product_export_value") / F.col("world_export_value")).alias("_share"),
    ).distinct()
    return (
        density_cp.join(values, keys, "full")
        .join(world_share, ["year", "product"], "left")
        .select(
            *keys,
            F.coalesce("export_value", F.lit(0.0)).alias("export_value"),
            F.coalesce("rca", F.lit(0.0)).alias("rca"),
            F.coalesce("rca_difference", -F.col("_share")).alias("rca_difference"),
            F.coalesce("mcp", F.lit(0)).alias("mcp"),
            "density",
            "cog",
        )
    )
