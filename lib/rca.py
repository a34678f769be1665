"""Revealed comparative advantage (Balassa 1965) and the binary country-product matrix M.

Input is a long DataFrame of exports with columns ``year, country_code, product, export_value``
(one row per country, product and year with positive exports). Totals come from window
aggregations over (year, country), (year, product) and (year), so no matrix is ever collected.

    RCA_cp            = (X_cp / X_c) / (X_p / X)
    rca_difference_cp = X_cp / X_c - X_p / X        (the additive variant, IPPR 2014 footnote 11)
    M_cp              = RCA_cp >= threshold          (strict: RCA_cp > threshold, as Stata/Atlas)
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F


def revealed_comparative_advantage(exports: DataFrame) -> DataFrame:
    """Add ``rca`` and ``rca_difference`` (and the totals they come from) to each exports row."""
    # Windows are built here, not at import: they need an active SparkContext.
    country_total = F.sum("export_value").over(Window.partitionBy("year", "country_code"))
    product_total = F.sum("export_value").over(Window.partitionBy("year", "product"))
    world_total = F.sum("export_value").over(Window.partitionBy("year"))
    return (
        exports.withColumn("country_export_value", country_total)
        .withColumn("world_product_export_value", product_total)
        .withColumn("world_export_value", world_total)
        .withColumn("_country_share", F.col("export_value") / F.col("country_export_value"))
        .withColumn(
            "_world_share", F.col("world_product_export_value") / F.col("world_export_value")
        )
        .withColumn("rca", F.col("_country_share") / F.col("_world_share"))
        .withColumn("rca_difference", F.col("_country_share") - F.col("_world_share"))
        .drop("_country_share", "_world_share")
    )


def presence_condition(rca: Column, threshold: float, strict: bool) -> Column:
    return rca > F.lit(threshold) if strict else rca >= F.lit(threshold)


def binary_presence(threshold: float = 1.0, strict: bool = False):
    """``df.transform(binary_presence(1.0))`` adds ``mcp`` (0/1) from ``rca``."""

    def _transform(df: DataFrame) -> DataFrame:
        condition = presence_condition(F.col("rca"), threshold, strict)
        return df.withColumn("mcp", F.when(condition, 1).otherwise(0).cast("int"))

    return _transform


def diversification(mcp: DataFrame) -> DataFrame:
    """Diversity k_c = number of products with M_cp = 1, per year and country (0 included)."""
    return mcp.groupBy("year", "country_code").agg(
        F.sum("mcp").cast("int").alias("diversification")
    )


def ubiquity(mcp: DataFrame) -> DataFrame:
    """Ubiquity k_p = number of countries with M_cp = 1, per year and product (0 included)."""
    return mcp.groupBy("year", "product").agg(F.sum("mcp").cast("int").alias("ubiquity"))
