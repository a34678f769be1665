"""lib.indicators (every indicator of a year in one task) against plain numpy, without Spark:
thresholds, RCA and M; rows of dropped countries and products; the grid without product space."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.eci import eci_pci_matrix
from lib.fitness import fitness_complexity_matrix
from lib.indicators import (
    YearSettings,
    grid_rows,
    proximity_blocks,
    summary_tables,
    year_indicators,
    year_presence,
)
from lib.product_space import proximity_matrix, proximity_pairs


def year_summary(year, rows, settings):
    return summary_tables(year_indicators(year, rows, settings), settings)


def year_grid(year, rows, settings):
    return grid_rows(year_indicators(year, rows, settings))


def pairs_once(rows, settings):
    """Each non-zero pair once (a < b), from an independent proximity of the year's M."""
    yp = year_presence(rows, settings)
    a, b, values = proximity_pairs(proximity_matrix(yp.M), settings.min_proximity)
    products = yp.codes[1]
    return pd.DataFrame(
        {
            "year": np.int32(2001),
            "product_a": products[a],
            "product_b": products[b],
            "proximity": values,
        }
    )


@pytest.fixture()
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    X = rng.lognormal(3, 2, (12, 30)) * (rng.random((12, 30)) < 0.6)
    X[0] = X[0] / 1e6  # a tiny exporter, dropped by a country threshold
    c, p = np.nonzero(X)
    return pd.DataFrame(
        {"country_code": c + 100, "product": [f"{k:04d}" for k in p], "export_value": X[c, p]}
    )


def test_presence_matches_plain_rca_with_thresholds(rows):
    settings = YearSettings(min_country_export=1.0, min_product_export=50.0, rca_strict=True)
    yp = year_presence(rows, settings)
    X = rows.pivot(index="country_code", columns="product", values="export_value").fillna(0)
    total, world = X.sum(axis=1), X.sum(axis=0)
    keep = (X > 0) & (total >= 1.0).to_numpy()[:, None] & (world >= 50.0).to_numpy()[None, :]
    kept = X.where(keep, 0.0).loc[keep.any(axis=1), keep.any(axis=0)]
    rca = (kept.div(kept.sum(axis=1), axis=0)) / (kept.sum(axis=0) / kept.to_numpy().sum())
    np.testing.assert_allclose(yp.rca, rca.to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(yp.M, (rca.to_numpy() > 1.0).astype(float))
    assert not yp.kept_countries[0]  # the tiny exporter


def test_summary_rows_cover_every_exporter_and_match_the_cores(rows):
    settings = YearSettings(min_country_export=1.0)
    tables = year_summary(2001, rows, settings)
    yp = year_presence(rows, settings)
    country, product = tables["country"], tables["product"]
    assert len(country) == rows["country_code"].nunique()
    assert len(product) == rows["product"].nunique()
    dropped = country[country["country_code"] == 100].iloc[0]
    assert pd.isna(dropped["fitness"]) and pd.isna(dropped["diversification"])
    assert dropped["export_value"] == pytest.approx(
        rows.loc[rows.country_code == 100, "export_value"].sum()
    )
    fit = fitness_complexity_matrix(yp.M, 200, 1e-12)
    np.testing.assert_allclose(country["fitness"].to_numpy()[1:], fit.fitness, rtol=1e-12)
    eci = eci_pci_matrix(yp.M)
    np.testing.assert_allclose(country["eci"].to_numpy()[1:], eci.eci, rtol=1e-12)
    assert tables["convergence"]["iterations"].iloc[0] == fit.iterations


def test_grid_and_proximity(rows):
    full = year_grid(2001, rows, YearSettings())
    yp = year_presence(rows, YearSettings())
    assert len(full) == yp.M.size and full["density"].notna().any()
    exported = year_grid(2001, rows, YearSettings(product_space=False))
    assert len(exported) == len(rows) and exported["density"].isna().all()
    pairs = pairs_once(rows, YearSettings())
    phi = proximity_matrix(yp.M)
    assert len(pairs) == np.count_nonzero(np.triu(phi, 1))
    assert (pairs["product_a"].astype(str) < pairs["product_b"].astype(str)).all()


@pytest.mark.parametrize(
    "settings",
    [YearSettings(), YearSettings(proximity_diagonal=1.0), YearSettings(product_space=False)],
)
def test_proximity_blocks_hold_both_orders_of_every_pair(rows, settings):
    """Whether phi comes from the product space's computation (its diagonal set for density)
    or is made for the table alone: every pair in both orders, never the diagonal."""
    once = pairs_once(rows, YearSettings())
    ind = year_indicators(2001, rows, settings)
    blocks = list(proximity_blocks(ind))
    both = pd.concat(blocks, ignore_index=True).astype({"product_a": str, "product_b": str})
    once = once.astype({"product_a": str, "product_b": str})
    mirror = once.rename(columns={"product_a": "product_b", "product_b": "product_a"})
    expected = pd.concat([once, mirror[once.columns]], ignore_index=True)
    keys = ["product_a", "product_b"]
    pd.testing.assert_frame_equal(
        both.sort_values(keys, ignore_index=True), expected.sort_values(keys, ignore_index=True)
    )
    # consecutive product_a per block, blocks in order
    firsts = [block["product_a"].astype(str) for block in blocks]
    assert all(a.max() < b.min() for a, b in zip(firsts, firsts[1:], strict=False))
