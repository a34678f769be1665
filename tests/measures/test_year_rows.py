"""lib.measures.year_rows (a year's grid and proximity pairs as rows, in blocks) against plain
numpy and an independent whole proximity: every cell and pair once, blocks equal to the whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.measures.product_space import Proximity, proximity_matrix, proximity_pairs
from lib.measures.year_rows import grid_blocks, grid_rows, proximity_blocks
from lib.measures.yearly import YearSettings, year_indicators, year_presence


def year_grid(year, rows, settings):
    return grid_rows(year_indicators(year, rows, settings))


def pairs_once(rows, settings):
    """Each non-zero pair once (a < b), from an independent proximity of the year's M."""
    yp = year_presence(rows, settings)
    whole = Proximity.of_cooccurrence(yp.M.T @ yp.M)  # phi whole, not the job's column blocks
    a, b, values = proximity_pairs(whole, settings.min_proximity)
    products = yp.codes[1]
    return pd.DataFrame(
        {
            "year": np.int32(2001),
            "product_a": products[a],
            "product_b": products[b],
            "proximity": values,
        }
    )


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


def test_grid_density_pairs_top_k(rows):
    """density_pairs = top_k: every pair with exports, plus per country those of its k pairs
    with M = 0 of highest density (a plain sort of the full grid) that have no exports;
    all = the full grid."""
    settings = YearSettings()
    ind = year_indicators(2001, rows, settings)
    full = grid_rows(ind)
    assert len(grid_rows(ind, "all")) == len(full) == ind.presence.M.size
    k = 2
    top = grid_rows(ind, "top_k", k)
    assert len(top[top["export_value"] > 0]) == int((full["export_value"] > 0).sum())
    for country, cells in full[full["mcp"] == 0].groupby("country_code"):
        ranked = cells[cells["density"].notna()].sort_values(
            ["density", "product"], ascending=[False, True]
        )
        best = ranked.head(k)
        want = sorted(best.loc[best["export_value"] == 0, "product"])
        got = top[(top["country_code"] == country) & (top["export_value"] == 0)]
        assert sorted(got["product"]) == want, country


@pytest.mark.parametrize(
    ("settings", "mode"),
    [
        (YearSettings(), "all"),
        (YearSettings(), "absent"),
        (YearSettings(), "top_k"),
        (YearSettings(product_space=False), "all"),
    ],
)
@pytest.mark.parametrize("block_cells", [1, 45, 10**6])
def test_grid_in_blocks_equals_the_whole_grid(rows, settings, mode, block_cells):
    """Blocks of consecutive places (one place a block when ``block_cells`` is below the
    activities, two or so at 45, the whole year at 10**6), concatenated, are the grid built
    cell by cell from the year's matrices: the same cells, values and order."""
    ind = year_indicators(2001, rows, settings)
    blocks = list(grid_blocks(ind, mode, 3, block_cells))
    n_c, n_p = ind.presence.M.shape
    assert len(blocks) == -(-n_c // max(1, block_cells // n_p))
    got = pd.concat(blocks, ignore_index=True)
    yp = ind.presence
    countries, products = yp.codes
    if ind.outlook is None:
        keep = yp.X > 0
        density = np.full(yp.M.shape, np.nan)
    else:
        density = ind.outlook.density
        absent = (yp.M == 0) & np.isfinite(density)
        ranked = np.where(absent, density, -np.inf)
        top = np.zeros_like(absent)
        for c in range(n_c):  # per place its 3 best absent cells, ties to the earlier one
            order = sorted(range(n_p), key=lambda p, c=c: (-ranked[c, p], p))[:3]
            top[c, [p for p in order if absent[c, p]]] = True
        keep = (yp.X > 0) | {"all": np.ones_like(absent), "absent": yp.M == 0, "top_k": top}[mode]
    c, p = np.nonzero(keep)
    assert got["country_code"].tolist() == countries[c].tolist()
    assert got["product"].astype(str).tolist() == products[p].astype(str).tolist()
    np.testing.assert_array_equal(got["rca"], yp.rca[c, p])
    np.testing.assert_array_equal(got["mcp"], yp.M[c, p].astype(int))
    np.testing.assert_array_equal(got["density"], density[c, p])
