"""The prediction tables from the indicator grid: scores of every method, ranked, and backtests.

    grid (country_product_year) -> candidates -> scores per method -> ranked (product_opportunities)
                                                                   -> with outcomes -> backtests

Every year t gets scores (the latest years too: they are the forecasts); the backtests cover
the years whose t + horizon is in the grid. Must not: read or write tables (``lib.run.prediction``
does), or let a year after t into a score of year t.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lib.prediction.backtest import backtest, backtest_by_place
from lib.prediction.candidates import KEYS, candidates, with_outcomes
from lib.prediction.density_scores import density_scores
from lib.prediction.settings import DENSITY, ML_METHODS, PredictionSettings


@dataclass(frozen=True)
class PredictionFrames:
    opportunities: DataFrame  # product_opportunities rows
    backtest: DataFrame  # prediction_backtest rows
    backtest_place: DataFrame  # prediction_backtest_place rows


def with_rank(scored: DataFrame) -> DataFrame:
    """``rank`` 1, 2, ... by decreasing score within (year, place, method); ties by product."""
    window = Window.partitionBy("year", "country_code", "method").orderBy(
        F.col("score").desc(), F.col("product")
    )
    return scored.withColumn("rank", F.row_number().over(window).cast("int"))


def method_scores(
    method: str, pairs: DataFrame, grid: DataFrame, settings: PredictionSettings
) -> DataFrame:
    """year, country_code, product, method, score of one method on the candidates."""
    if method == DENSITY:
        return density_scores(pairs)
    if method in ML_METHODS:
        from lib.prediction.classifiers import classifier_scores  # scikit-learn: only if asked

        return classifier_scores(method, pairs, grid, settings)
    raise ValueError(f"unknown prediction method {method!r}")


def prediction_frames(
    grid: DataFrame, settings: PredictionSettings, years: list[int]
) -> PredictionFrames:
    """The three tables' rows (lazy) from ``grid`` (country_product_year of ``years``)."""
    pairs = candidates(grid, settings.entry_below)
    scored = None
    for method in settings.methods:
        scores = method_scores(method, pairs, grid, settings).select(*KEYS, "method", "score")
        scored = scores if scored is None else scored.unionByName(scores)
    ranked = with_rank(scored)
    labelled = with_outcomes(ranked, grid, settings.horizon, years)
    return PredictionFrames(
        opportunities=ranked,
        backtest=backtest(labelled, settings.k, settings.horizon),
        backtest_place=backtest_by_place(labelled, settings.k, settings.horizon),
    )
