"""The report's product-level analyses, DataFrame -> DataFrame over the indicator tables.

Inputs are the pipeline's tables (``country_year``, ``product_year``, ``country_product_year``)
and ``baci_countries`` for names; each function returns one report table (``lib.tables.report``).
Positions are 1-based and ascending (1 = least fit country / least complex product), the order
of the report's figures 3.8 and 3.11-3.13; ranks are 1 = best.

Products are at the level the indicators were computed (HS4 by default, the report's "just over
1,000 categories"), and "competitive" means M_cp = 1 as the pipeline computed it (RCA >= 1 by
default).

Must not write: the tables are written by ``lib.report.build``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F


def country_names(countries: DataFrame) -> DataFrame:
    """(country_code, iso3, country_name), one row per code."""
    return countries.select("country_code", "iso3", "country_name").dropDuplicates(["country_code"])


def _position(order: list[Column], *partition: str) -> Column:
    """1, 2, ... within the partition; callers end ``order`` with a key so ties are stable."""
    return F.row_number().over(Window.partitionBy(*partition).orderBy(*order))


def _count(*partition: str) -> Column:
    return F.count(F.lit(1)).over(Window.partitionBy(*partition))


def country_trends(
    country_year: DataFrame, product_year: DataFrame, years: Sequence[int]
) -> DataFrame:
    """Fitness level and rank, and diversification out of N products (figures 3.9, 3.10, 3.14).

    ``products_total`` is N: the products with a ubiquity that year (those that entered the
    country-product matrix); ``countries_ranked`` is the number of countries with a fitness.
    """
    in_years = F.col("year").isin(list(years))
    n_products = (
        product_year.where(in_years & F.col("ubiquity").isNotNull())
        .groupBy("year")
        .agg(F.count(F.lit(1)).cast("int").alias("products_total"))
    )
    return (
        country_year.where(in_years)
        .join(n_products, "year", "left")
        .withColumn(
            "countries_ranked",
            F.sum(F.col("fitness").isNotNull().cast("int")).over(Window.partitionBy("year")),
        )
        .select(
            "year",
            "country_code",
            "iso3",
            "country_name",
            "export_value",
            "diversification",
            "products_total",
            "fitness",
            "log10_fitness",
            "fitness_rank",
            F.col("countries_ranked").cast("int").alias("countries_ranked"),
            "eci",
            "eci_rank",
            "mean_product_complexity",
        )
    )


def products_change(
    country_product_year: DataFrame,
    country_year: DataFrame,
    product_year: DataFrame,
    year_from: int,
    year_to: int,
) -> DataFrame:
    """Products gained (M 0 -> 1) and lost (M 1 -> 0) per country between two years.

    Only countries with exports in both years take part: a country missing from one year would
    otherwise "lose" or "gain" everything. A product not exported in a year counts as M = 0.
    """
    keys = ["country_code", "product"]

    def side(year: int, suffix: str) -> DataFrame:
        return country_product_year.where(F.col("year") == year).select(
            *keys,
            F.col("mcp").alias(f"mcp_{suffix}"),
            F.col("rca").alias(f"rca_{suffix}"),
            F.col("export_value").alias(f"export_value_{suffix}"),
        )

    both_years = (
        country_year.where(F.col("year").isin(year_from, year_to) & (F.col("export_value") > 0))
        .groupBy("country_code", "iso3", "country_name")
        .agg(F.countDistinct("year").alias("_years"))
        .where(F.col("_years") == 2)
        .drop("_years")
    )
    described = (
        product_year.where(F.col("year").isin(year_from, year_to))
        .groupBy("product")
        .agg(
            F.max_by("description", "year").alias("description"),
            F.max(F.when(F.col("year") == year_to, F.col("complexity"))).alias("complexity"),
        )
    )
    joined = (
        side(year_from, "from")
        .join(side(year_to, "to"), keys, "full")
        .fillna(0, subset=["mcp_from", "mcp_to"])
        .fillna(0.0, subset=["rca_from", "rca_to", "export_value_from", "export_value_to"])
    )
    change = F.when((F.col("mcp_from") == 0) & (F.col("mcp_to") == 1), F.lit("gained")).when(
        (F.col("mcp_from") == 1) & (F.col("mcp_to") == 0), F.lit("lost")
    )
    return (
        joined.withColumn("change", change)
        .where(F.col("change").isNotNull())
        .join(both_years, "country_code")
        .join(described, "product", "left")
        .select(
            "country_code",
            "iso3",
            "country_name",
            F.lit(year_from).alias("year_from"),
            F.lit(year_to).alias("year_to"),
            "product",
            "description",
            "change",
            "rca_from",
            "rca_to",
            "export_value_from",
            "export_value_to",
            "complexity",
        )
    )


def ranked_products(product_year: DataFrame, years: Sequence[int]) -> DataFrame:
    """Products with a complexity, with their position by increasing complexity per year."""
    return (
        product_year.where(F.col("year").isin(list(years)) & F.col("complexity").isNotNull())
        .withColumn("product_position", _position([F.asc("complexity"), F.asc("product")], "year"))
        .withColumn("products_ranked", _count("year"))
        .withColumn("product_position", F.col("product_position").cast("int"))
        .withColumn("products_ranked", F.col("products_ranked").cast("int"))
    )


def spectrograph(
    country_product_year: DataFrame,
    product_year: DataFrame,
    names: DataFrame,
    country_codes: Sequence[int],
    years: Sequence[int],
) -> DataFrame:
    """Every product's exports for the chosen countries, ordered by complexity (fig. 3.11-3.13).

    One row per country, year and ranked product, also where the country exports nothing (0),
    so the x-axis is the same for every country of a year.
    """
    products = ranked_products(product_year, years).select(
        "year", "product", "description", "complexity", "product_position", "products_ranked"
    )
    chosen = names.where(F.col("country_code").isin(list(country_codes)))
    exports = country_product_year.where(
        F.col("year").isin(list(years)) & F.col("country_code").isin(list(country_codes))
    ).select("year", "country_code", "product", "export_value", "rca", "mcp")
    return (
        products.crossJoin(F.broadcast(chosen))
        .join(exports, ["year", "country_code", "product"], "left")
        .select(
            "year",
            "country_code",
            "iso3",
            "country_name",
            "product",
            "description",
            "complexity",
            "product_position",
            "products_ranked",
            F.coalesce("export_value", F.lit(0.0)).alias("export_value"),
            F.coalesce("rca", F.lit(0.0)).alias("rca"),
            F.coalesce("mcp", F.lit(0)).alias("mcp"),
        )
    )


def nested_matrix(
    country_product_year: DataFrame,
    country_year: DataFrame,
    product_year: DataFrame,
    years: Sequence[int],
) -> DataFrame:
    """The 1-entries of M with countries ordered by fitness and products by complexity (fig 3.8)."""
    countries = (
        country_year.where(F.col("year").isin(list(years)) & F.col("fitness").isNotNull())
        .withColumn(
            "country_position",
            _position([F.asc("fitness"), F.asc("country_code")], "year").cast("int"),
        )
        .withColumn("countries_ranked", _count("year").cast("int"))
        .select(
            "year", "country_code", "iso3", "country_name", "country_position", "countries_ranked"
        )
    )
    products = ranked_products(product_year, years).select(
        "year", "product", "product_position", "products_ranked"
    )
    ones = country_product_year.where(F.col("year").isin(list(years)) & (F.col("mcp") == 1)).select(
        "year", "country_code", "product"
    )
    return (
        ones.join(countries, ["year", "country_code"])
        .join(products, ["year", "product"])
        .select(
            "year",
            "country_code",
            "iso3",
            "country_name",
            "product",
            "country_position",
            "product_position",
            "countries_ranked",
            "products_ranked",
        )
    )


def adjacent_products(
    country_product_year: DataFrame,
    product_year: DataFrame,
    names: DataFrame,
    country_codes: Sequence[int],
    years: Sequence[int],
) -> DataFrame:
    """Products a country does not yet export competitively (M = 0), ranked three ways.

    ``density_rank``: closeness to what the country already exports (the report's "adjacent
    areas"); ``cog_rank``: how much a move would open up (complexity outlook gain);
    ``complexity_rank``: how complex the product is. Rank 1 = highest.
    """
    keys = ("year", "country_code")
    candidates = country_product_year.where(
        F.col("year").isin(list(years))
        & F.col("country_code").isin(list(country_codes))
        & (F.col("mcp") == 0)
        & F.col("density").isNotNull()
    ).select("year", "country_code", "product", "export_value", "rca", "density", "cog")
    products = product_year.select("year", "product", "description", "complexity", "pci")
    return (
        candidates.join(products, ["year", "product"], "left")
        .join(F.broadcast(names), "country_code", "left")
        .withColumn("density_rank", _position([F.desc("density"), F.asc("product")], *keys))
        .withColumn("cog_rank", _position([F.desc_nulls_last("cog"), F.asc("product")], *keys))
        .withColumn(
            "complexity_rank", _position([F.desc_nulls_last("complexity"), F.asc("product")], *keys)
        )
        .select(
            "year",
            "country_code",
            "iso3",
            "country_name",
            "product",
            "description",
            "export_value",
            "rca",
            "density",
            "cog",
            "complexity",
            "pci",
            F.col("density_rank").cast("int").alias("density_rank"),
            F.col("cog_rank").cast("int").alias("cog_rank"),
            F.col("complexity_rank").cast("int").alias("complexity_rank"),
        )
    )
