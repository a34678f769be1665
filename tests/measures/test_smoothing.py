"""Smoothing over years (lib.measures.smoothing): the window assembled per target year in Spark, its
weighted average in the yearly core, and RCA / M on it, against an independent numpy
computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.measures.smoothing import (
    smoothed_rows,
    source_years,
    window_exports,
    window_keys,
    window_weights,
)
from lib.measures.yearly import YearSettings
from tests.measures.test_yearly import year_grid


def _long(seed: int, years=(2001, 2002, 2003)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for year in years:
        X = rng.lognormal(2, 1.5, (8, 12)) * (rng.random((8, 12)) < 0.7)
        c, p = np.nonzero(X)
        frames.append(
            pd.DataFrame(
                {
                    "year": year,
                    "country_code": c + 1,
                    "product": [f"{k:04d}" for k in p],
                    "export_value": X[c, p],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _dense(rows: pd.DataFrame, year: int) -> pd.DataFrame:
    part = rows[rows.year == year]
    return part.pivot_table(
        index="country_code", columns="product", values="export_value", fill_value=0.0
    )


@pytest.mark.parametrize(("weights", "years"), [((2.0, 1.0, 1.0), 3), ((), 2)])
def test_window_average_and_rca_equal_independent_numpy(weights, years):
    rows = _long(1)
    w = window_weights(years, weights)
    for target in (2001, 2002, 2003):
        window = rows[(rows.year <= target) & (rows.year > target - years)]
        window = window.rename(columns={"year": "source_year"}).assign(year=target)
        # independent: dense matrices, weights of the years present renormalised
        present = [y for y in range(target, target - years, -1) if y >= 2001]
        mats = [_dense(rows, y) * w[target - y] for y in present]
        X = pd.concat(mats).groupby(level=0).sum().fillna(0.0) / sum(w[target - y] for y in present)
        X = X.fillna(0.0)
        got = smoothed_rows(window, target, w).pivot_table(
            index="country_code", columns="product", values="export_value", fill_value=0.0
        )
        np.testing.assert_allclose(got.reindex_like(X).to_numpy(), X.to_numpy(), rtol=1e-12)

        grid = year_grid(target, window, YearSettings(smoothing_weights=w))
        rca = (X.div(X.sum(axis=1), axis=0)) / (X.sum(axis=0) / X.to_numpy().sum())
        ours = grid.pivot(index="country_code", columns="product", values="rca").reindex_like(rca)
        np.testing.assert_allclose(ours.to_numpy(), rca.to_numpy(), rtol=1e-12)
        mcp = grid.pivot(index="country_code", columns="product", values="mcp").reindex_like(rca)
        assert (mcp.to_numpy() == (rca.to_numpy() >= 1)).all()


def test_a_one_year_spike_does_not_create_a_specialisation():
    """Country 1 ships product 0000 once (2002): RCA >= 1 that year without smoothing, not with
    the 3-year window (weights 1, 1, 1)."""
    base = pd.DataFrame(
        {
            "country_code": [1, 1, 2, 2, 3, 3],
            "product": ["0000", "0001", "0000", "0001", "0000", "0001"],
            "export_value": [1.0, 100.0, 50.0, 50.0, 60.0, 40.0],
        }
    )
    rows = pd.concat([base.assign(year=y) for y in (2000, 2001, 2002)], ignore_index=True)
    spike = (rows.year == 2002) & (rows.country_code == 1) & (rows["product"] == "0000")
    rows.loc[spike, "export_value"] = 200.0
    plain = year_grid(2002, rows[rows.year == 2002], YearSettings())
    window = rows.rename(columns={"year": "source_year"}).assign(year=2002)
    smooth = year_grid(2002, window, YearSettings(smoothing_weights=(1.0, 1.0, 1.0)))

    def m(grid):
        return grid.set_index(["country_code", "product"]).loc[(1, "0000"), "mcp"]

    assert m(plain) == 1 and m(smooth) == 0


def test_window_assembled_per_target_year(spark):
    rows = _long(2, years=(2000, 2001, 2002, 2003))
    exports = spark.createDataFrame(rows)
    assert source_years([2002, 2003], 3) == [2000, 2001, 2002, 2003]
    got = window_exports(exports, [2002, 2003], 3).toPandas()
    for target in (2002, 2003):
        part = got[got.year == target]
        assert set(part.source_year) == {target, target - 1, target - 2}
        expected = rows[(rows.year <= target) & (rows.year > target - 3)]
        assert len(part) == len(expected)
        assert part.export_value.sum() == pytest.approx(expected.export_value.sum())
    assert set(got.year) == {2002, 2003}
    assert window_keys({2001: "a", 2002: "b"}, [2002], 2) == {2002: "b|a"}
    assert window_keys({2002: "b"}, [2002], 2) == {2002: "b|-"}
