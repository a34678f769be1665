"""The pairs an opportunity score ranks, and what became of them h years later (Spark).

A candidate of year t is a pair (place, activity) of year t's matrix, both active that year (the
place has at least one activity with M = 1, the activity at least one place), whose RCA at t is
below ``entry_below`` (zero-export pairs included: the grid holds every pair of the matrix). Its
outcome is M at t + h: 1 if the pair is present then, 0 otherwise (also when the place or the
activity is missing from year t + h's matrix).

Input: ``country_product_year`` rows (year, country_code, product, rca, mcp, density ...).
Must not: let anything of a year after t into a candidate's features (``candidates``) -- only
``with_outcomes`` looks at t + h, and only to label.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

KEYS = ["year", "country_code", "product"]


def active_pairs(grid: DataFrame) -> DataFrame:
    """The grid's pairs whose place and activity are both active in the year."""
    place = Window.partitionBy("year", "country_code")
    activity = Window.partitionBy("year", "product")
    return (
        grid.withColumn("_place_active", F.max("mcp").over(place))
        .withColumn("_activity_active", F.max("mcp").over(activity))
        .where((F.col("_place_active") > 0) & (F.col("_activity_active") > 0))
        .drop("_place_active", "_activity_active")
    )


def candidates(grid: DataFrame, entry_below: float) -> DataFrame:
    """year, country_code, product, rca, density of the candidates of every year (see module
    doc); density 0 where undefined (an activity without neighbours), as fermi-cref's
    ``ECPredictor.predict_network`` gives there."""
    density = F.coalesce(F.nanvl(F.col("density"), F.lit(None)), F.lit(0.0))
    return (
        active_pairs(grid)
        .where(F.col("rca") < F.lit(float(entry_below)))
        .select(*KEYS, "rca", density.alias("density"))
    )


def with_outcomes(scored: DataFrame, grid: DataFrame, horizon: int, years: list[int]) -> DataFrame:
    """``scored`` rows of the years t whose t + horizon is in ``years``, with ``present`` =
    M at t + horizon (0 where the pair is not in that year's matrix)."""
    targets = sorted(y for y in years if y + horizon in set(years))
    later = grid.where(F.col("year").isin([t + horizon for t in targets])).select(
        (F.col("year") - F.lit(horizon)).alias("year"),
        "country_code",
        "product",
        F.col("mcp").alias("present"),
    )
    return (
        scored.where(F.col("year").isin(targets))
        .join(later, KEYS, "left")
        .withColumn("present", F.coalesce(F.col("present"), F.lit(0)).cast("int"))
    )
