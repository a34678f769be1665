"""Growth forecasts by the Selective Predictability Scheme (SPS; Tacchella, Mazzilli and
Pietronero, "A dynamical systems approach to gross domestic product forecasting", Nature
Physics 2018; fermi-cref's ``SPS``), their baselines and their backtest.

A country's state in year t is x = (ln fitness, ln GDP per capita). Its analogues are the states
of the OTHER countries in the years s <= t - h whose state h years later is known too (so
nothing after t is used); each moved by dx = x(s + h) - x(s). With Gaussian kernel weights
w = N(|x(s) - x_c(t)|; 0, sigma) the Nadaraya-Watson estimate of the displacement is
sum w dx / sum w, and its spread sum w (dx - mean)^2 / sum w. The bootstrap draws
``bootstrap`` samples of n analogues with probabilities w / sum w (n = the analogues), the mean
displacement of each sample; the interval is the central ``interval`` of those means (random
numbers seeded by (seed, country, year): a forecast does not depend on which others are made).
The growth forecast is the ln GDP per capita component: ln(GDP_{t+h} / GDP_t).

Baselines: ``velocity`` repeats the past h years' growth, ln(GDP_t / GDP_{t-h}) (fermi-cref's
``predict_actor_velocity`` with delta = h + 1, times h + 1: its "delta steps ago" is the
(delta - 1)-th earlier year, and it is per year); ``no_change`` forecasts 0.

Spark: the states are computed by Spark SQL from country_year's rows held on the driver (one
row a country and year: ``ln`` as Spark computes it), then each base year t is forecast inside
that year's prediction task (``lib.execution.prediction``) from the states of the years up to t
(a few thousand rows), and the backtest is computed on the driver from those forecasts (a few
hundred rows a year). WHY not Spark jobs of their own: on the embedded release they were 8
jobs and ~7 s for ~1,650 states. Must not: read a state after t for a forecast of t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.prediction.settings import GrowthSettings
from lib.tables import spark_schema

FORECAST_SCHEMA = spark_schema("growth_forecast")
GROWTH_BACKTEST_SCHEMA = spark_schema("growth_backtest")
SQRT_2PI = np.sqrt(2 * np.pi)


# --- numpy cores ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Analogues:
    start: np.ndarray  # n x 2 states x(s)
    moves: np.ndarray  # n x 2 displacements x(s + h) - x(s)


def analogue_pairs(states: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Every known state x(s) beside its x(s + h) (columns x0, x1, x0_later, x1_later), from
    ``states`` (country_code, year, x0, x1: every known state, NaN-free). WHY apart from
    ``analogues``: one merge a base year, not one a country (the merge was most of the stage)."""
    later = states.assign(year=states["year"] - horizon)
    return states.merge(later, on=["country_code", "year"], suffixes=("", "_later"))


def analogues(pairs: pd.DataFrame, country: int, year: int, horizon: int) -> Analogues:
    """The analogues of ``country`` in ``year`` from ``analogue_pairs``' rows."""
    pairs = pairs[(pairs["country_code"] != country) & (pairs["year"] <= year - horizon)]
    start = pairs[["x0", "x1"]].to_numpy(dtype=np.float64)
    return Analogues(start, pairs[["x0_later", "x1_later"]].to_numpy(dtype=np.float64) - start)


def kernel_weights(start: np.ndarray, point: np.ndarray, sigma: float) -> np.ndarray:
    """N(|x - point|; 0, sigma): scipy.stats.norm.pdf of the Euclidean distance."""
    distance = np.linalg.norm(start - point, axis=1)
    return np.exp(-0.5 * (distance / sigma) ** 2) / (sigma * SQRT_2PI)


def nadaraya_watson(
    found: Analogues, point: np.ndarray, sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    """The weighted mean displacement and its weighted variance (both dimensions)."""
    w = kernel_weights(found.start, point, sigma)
    total = w.sum()
    if not total > 0:
        return np.full(2, np.nan), np.full(2, np.nan)
    mean = (w[:, None] * found.moves).sum(axis=0) / total
    return mean, (w[:, None] * (found.moves - mean) ** 2).sum(axis=0) / total


def bootstrap_means(
    found: Analogues, point: np.ndarray, sigma: float, samples: int, rng: np.random.Generator
) -> np.ndarray:
    """``samples`` x 2 mean displacements of analogues drawn with kernel probabilities."""
    w = kernel_weights(found.start, point, sigma)
    if not w.sum() > 0:
        return np.full((samples, 2), np.nan)
    n = len(w)
    drawn = rng.choice(n, size=(samples, n), replace=True, p=w / w.sum())
    return found.moves[drawn].mean(axis=1)


def base_year_forecasts(states: pd.DataFrame, year: int, settings: GrowthSettings) -> pd.DataFrame:
    """``forecasts`` of ``year`` from ``states`` (``ordered_states``: every year's, the years
    after ``year`` left out here)."""
    return forecasts(states[states["year"] <= year].reset_index(drop=True), year, settings)


def forecasts(states: pd.DataFrame, year: int, settings: GrowthSettings) -> pd.DataFrame:
    """growth_forecast rows of the countries with a state in ``year`` (``states``: the years
    up to ``year`` only)."""
    h = settings.horizon
    now = states[states["year"] == year].sort_values("country_code")
    earlier = states[states["year"] == year - h].set_index("country_code")["x1"]
    tail = (1 - settings.interval) / 2
    pairs = analogue_pairs(states, h)
    pairs = pairs[pairs["year"] <= year - h]  # the same rows, in the same order, as per country
    rows = []
    for country, x0, x1 in now[["country_code", "x0", "x1"]].itertuples(index=False):
        point = np.array([x0, x1])
        found = analogues(pairs, int(country), year, h)
        mean = var = np.full(2, np.nan)
        low = high = np.nan
        if len(found.moves):
            mean, var = nadaraya_watson(found, point, settings.sigma)
            rng = np.random.default_rng([settings.seed, int(country), year])
            means = bootstrap_means(found, point, settings.sigma, settings.bootstrap, rng)
            low, high = np.quantile(means[:, 1], [tail, 1 - tail])
        rows.append(
            {
                "year": year,
                "country_code": int(country),
                "horizon": h,
                "target_year": year + h,
                "log_fitness": x0,
                "log_gdp_per_capita": x1,
                "analogues": len(found.moves),
                "sps_growth": mean[1],
                "sps_growth_sd": np.sqrt(var[1]),
                "sps_growth_low": low,
                "sps_growth_high": high,
                "sps_fitness_change": mean[0],
                "velocity_growth": x1 - earlier.get(country, np.nan),
            }
        )
    columns = FORECAST_SCHEMA.fieldNames()
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


# --- states (Spark SQL on the driver's rows) and the backtest (pandas) ---------------------


def growth_states(country_year: DataFrame) -> DataFrame:
    """country_code, year, x0 = ln fitness, x1 = ln GDP per capita, where both are positive."""
    known = (F.col("fitness") > 0) & (F.col("gdp_per_capita") > 0)
    return country_year.where(known).select(
        "country_code",
        "year",
        F.log("fitness").alias("x0"),
        F.log("gdp_per_capita").alias("x1"),
    )


def ordered_states(spark: SparkSession, country_year: pa.Table) -> pd.DataFrame:
    """``growth_states`` of country_year's rows (country_code, year, fitness, gdp_per_capita),
    ordered by year and country. WHY Spark for two logarithms: its ``ln`` (Java's StrictMath)
    and numpy's differ in the last bit for a few percent of values, and the bootstrap draws
    depend on the analogues' order: the same table gives the same forecasts however its files
    are laid out, and as they were computed before."""
    states = growth_states(spark.createDataFrame(country_year)).toArrow().to_pandas()
    return states.sort_values(["year", "country_code"], kind="stable").reset_index(drop=True)


def _spark_mean(values: np.ndarray) -> float:
    """Spark SQL's ``avg`` of doubles: summed left to right from 0.0, divided by the count."""
    return float(np.cumsum(np.concatenate([[0.0], values]))[-1] / len(values))


def growth_backtest(forecast: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
    """growth_backtest rows: per method and base year t with t + h known, the errors of the
    forecasts of ln GDP per capita growth, over the countries every method forecast (in
    country order, summed as Spark's ``avg`` sums: the figures of the former Spark query)."""
    observed = states[["country_code", "year", "x1"]].rename(
        columns={"year": "target_year", "x1": "x1_later"}
    )
    joined = forecast.merge(observed, on=["country_code", "target_year"])
    joined = joined[joined["sps_growth"].notna() & joined["velocity_growth"].notna()]
    joined = joined.sort_values(["year", "country_code"], kind="stable")
    rows = []
    for (year, target, horizon), group in joined.groupby(
        ["year", "target_year", "horizon"], sort=True
    ):
        observed_growth = group["x1_later"].to_numpy() - group["log_gdp_per_capita"].to_numpy()
        methods = {
            "sps": group["sps_growth"].to_numpy(),
            "velocity": group["velocity_growth"].to_numpy(),
            "no_change": np.zeros(len(group)),
        }
        for method, forecast_growth in methods.items():
            error = forecast_growth - observed_growth
            rows.append(
                {
                    "method": method,
                    "train_year": int(year),
                    "target_year": int(target),
                    "horizon": int(horizon),
                    "countries": len(group),
                    "mean_absolute_error": _spark_mean(np.abs(error)),
                    "rmse": float(np.sqrt(_spark_mean(error * error))),
                    "mean_error": _spark_mean(error),
                }
            )
    return pd.DataFrame(rows, columns=GROWTH_BACKTEST_SCHEMA.fieldNames())
