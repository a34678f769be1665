"""The backtest of every method and year, from scored candidates with their outcomes (Spark).

``backtest``: one row per (method, year t): the metrics of ``lib.prediction.metrics`` over the
year's candidates, computed inside one task per group (``applyInPandas``), never on the
driver. A group is one year's candidates of one method: at most places x activities rows
(~250 x 5,000 at HS6, ~40 MB in pandas). The cut-off of the world-wide precision@k and MAP@k
is k x the places with candidates: as many pairs as the places' lists of k hold together.

``backtest_by_place``: per (method, year, place), precision@k of the place's own list (its k
highest-ranked candidates), by Spark aggregates.
Must not: score anything, or look at a year's outcome except through ``present``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lib.prediction import metrics
from lib.tables import spark_schema

BACKTEST_SCHEMA = spark_schema("prediction_backtest")


def _group_metrics(k: int, horizon: int):
    def run(rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.sort_values(["country_code", "product"], kind="stable")  # ties: by place
        places = rows["country_code"].nunique()
        result = metrics.backtest(
            rows["present"].to_numpy(), rows["score"].to_numpy(dtype=np.float64), k * places
        )
        year = int(rows["year"].iloc[0])
        out = {
            "method": [rows["method"].iloc[0]],
            "train_year": [year],
            "target_year": [year + horizon],
            "horizon": [horizon],
            **{name: [getattr(result, name)] for name in metrics.Backtest.__dataclass_fields__},
        }
        return pd.DataFrame(out)[BACKTEST_SCHEMA.fieldNames()]

    return run


def backtest(labelled: DataFrame, k: int, horizon: int) -> DataFrame:
    """prediction_backtest rows of ``labelled`` (year, country_code, product, method, score,
    present)."""
    return (
        labelled.select("year", "country_code", "product", "method", "score", "present")
        .groupBy("method", "year")
        .applyInPandas(_group_metrics(k, horizon), BACKTEST_SCHEMA)
    )


def backtest_by_place(labelled: DataFrame, k: int, horizon: int) -> DataFrame:
    """prediction_backtest_place rows of ``labelled`` (with ``rank`` within the place)."""
    in_list = F.col("rank") <= F.lit(k)
    return (
        labelled.groupBy("method", "year", "country_code")
        .agg(
            F.count(F.lit(1)).cast("int").alias("candidates"),
            F.sum("present").cast("int").alias("positives"),
            F.sum(F.when(in_list, F.col("present")).otherwise(0)).cast("int").alias("hits"),
        )
        .withColumn("k", F.least(F.lit(k), F.col("candidates")))
        .select(
            "method",
            F.col("year").alias("train_year"),
            (F.col("year") + F.lit(horizon)).alias("target_year"),
            F.lit(horizon).alias("horizon"),
            "country_code",
            "candidates",
            "positives",
            "hits",
            (F.col("hits") / F.col("k")).alias("precision_at_k"),
            "k",
        )
    )
