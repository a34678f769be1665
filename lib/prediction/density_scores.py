"""The network method: a candidate's score is its density at t, the share of the proximity of
the activity to those the place already has (M phi normalised by the column sums of phi).

WHY no computation here: the density is the one ``lib.measures.product_space`` computes for
``country_product_year``; scoring reads it, so the opportunity score and the table's density are
one number. Must not: recompute the density or read any year but t.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lib.prediction.candidates import KEYS
from lib.prediction.settings import DENSITY


def density_scores(candidates: DataFrame) -> DataFrame:
    """year, country_code, product, method = density, score = density at t."""
    return candidates.select(*KEYS, F.lit(DENSITY).alias("method"), F.col("density").alias("score"))
