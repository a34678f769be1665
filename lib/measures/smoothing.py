"""Smoothing over years: RCA and M of year t from a weighted window of exports (t, t-1, ...).

With ``rca.smoothing_years = k`` > 1 the exports X_cp of year t are replaced by

    Xbar_cp(t) = sum_i w_i X_cp(t - i) / sum_{i: year t - i has exports} w_i,   i = 0 .. k-1

(``rca.smoothing_weights`` w_0, w_1, ... for t, t-1, ...; empty = equal weights, the k-year
average; e.g. 2, 1, 1). Every yearly indicator is then computed from Xbar: thresholds, RCA, M,
Fitness, ECI, the product space, and the ``export_value`` columns hold Xbar. WHY: a one-year
spike (a single large shipment) no longer creates or destroys a specialisation. Years of the
window that have no flows (the first years of a release) are left out and the weights of the
others renormalised.

How it runs per year: the window is assembled *before* the yearly task (``window_exports``):
each row of year s is copied to the target years s, s+1, ..., s+k-1 that are being computed,
keeping its ``source_year``; the task of target year t then holds exactly its window and
``smoothed_rows`` averages it in numpy. A year's flows fingerprint covers its whole window
(``window_keys``), so a changed year t-1 recomputes year t.

Pure numpy: must not know about Spark, tables or the config.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def window_weights(years: int, weights: Sequence[float] = ()) -> tuple[float, ...]:
    """The weights w_0 (year t), w_1 (t-1), ... of a window of ``years`` years."""
    if weights:
        if len(weights) != years:
            raise ValueError(f"{len(weights)} weights for a window of {years} years")
        return tuple(float(w) for w in weights)
    return (1.0,) * years


def source_years(years: Iterable[int], window: int) -> list[int]:
    """Every year whose exports the windows of ``years`` need (``years`` itself if window 1)."""
    return sorted({y - i for y in years for i in range(window)})


def window_exports(exports: DataFrame, years: Iterable[int], window: int) -> DataFrame:
    """year (the target), country_code, product, export_value, source_year: each row of year s
    once per target year t in ``years`` with t - window < s <= t (the caller places the target
    years in partitions: ``lib.measures.matrix.one_partition_per_year``)."""
    targets = sorted(set(years))
    shifted = exports.withColumn("source_year", F.col("year")).withColumn(
        "_offset", F.explode(F.array(*[F.lit(i) for i in range(window)]))
    )
    return (
        shifted.withColumn("year", (F.col("source_year") + F.col("_offset")).cast("int"))
        .where(F.col("year").isin(targets))
        .drop("_offset")
    )


def smoothed_rows(rows: pd.DataFrame, year: int, weights: Sequence[float]) -> pd.DataFrame:
    """The target year's window rows (with ``source_year``) averaged: country_code, product,
    export_value = Xbar. Weights of the window's years without rows are left out."""
    offset = year - rows["source_year"].to_numpy()
    w = pd.Series(weights).reindex(offset).to_numpy()
    present = sorted(set(offset.tolist()))
    total = sum(weights[i] for i in present)
    weighted = rows.assign(export_value=rows["export_value"].to_numpy() * w / total)
    return weighted.groupby(["country_code", "product"], as_index=False)["export_value"].sum()


def window_keys(keys: Mapping[int, str], years: Iterable[int], window: int) -> dict[int, str]:
    """Per target year, the flows fingerprints of its window's years (absent years: '-')."""
    return {
        y: "|".join(keys.get(y - i, "-") for i in range(window)) if window > 1 else keys[y]
        for y in years
    }
