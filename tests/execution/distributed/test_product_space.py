"""The product space blockwise across Spark tasks equals the in-task single block.

Both paths run the kernels of ``lib.measures.product_space``; these tests run the distributed
assembly (``lib.execution.distributed.product_space``) with blocks small enough for many places
per year to be spread over many tasks, and compare every density, COG, COI and proximity it
writes with the in-task ``density_and_outlook_matrix`` of the same M: within 1e-9 relative
(``assert_allclose(rtol=1e-9)``, plus an absolute 1e-12 x the column's largest magnitude for
cells whose value is 0 up to rounding, e.g. COG). The proximity pairs are also checked
against scipy.sparse (an independent computation: M^T M of a sparse matrix).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from lib.execution.distributed.product_space import (
    density_cells,
    outlook,
    place_coi,
    proximity_pairs,
)
from lib.measures.eci import eci_pci_matrix
from lib.measures.product_space import density_and_outlook_matrix
from lib.measures.yearly import YearSettings
from tests.conftest import data_path
from tests.reference_data import R_DIR

YEAR = 2000


def _frames(spark, M: np.ndarray, pci: np.ndarray, places: np.ndarray, codes: np.ndarray):
    """M's cells as the distributed path's input (ones and some zeros, which it must ignore)
    and PCI rows (NULL where unknown)."""
    c, p = np.nonzero(M)
    zc, zp = np.nonzero(M == 0)
    rows = pd.DataFrame(
        {
            "year": YEAR,
            "place": np.concatenate([places[c], places[zc[::7]]]).astype(np.int64),
            "activity": np.concatenate([codes[p], codes[zp[::7]]]),
            "mcp": np.concatenate([np.ones(c.size), np.zeros(zc[::7].size)]),
        }
    )
    pci_rows = pd.DataFrame({"year": YEAR, "activity": codes, "pci": pci})
    schema = "year int, place long, activity string, mcp double"
    return (
        spark.createDataFrame(rows, schema),
        spark.createDataFrame(pci_rows, "year int, activity string, pci double"),
    )


def _close(got: np.ndarray, expected: np.ndarray, what: str) -> None:
    assert np.array_equal(np.isnan(got), np.isnan(expected)), f"{what}: NULL cells differ"
    finite = np.isfinite(expected)
    scale = np.max(np.abs(expected[finite]), initial=0.0)
    np.testing.assert_allclose(
        got[finite], expected[finite], rtol=1e-9, atol=1e-12 * scale, err_msg=what
    )


def _distributed(spark, M, pci, settings, block_cells, partitions=3):
    n_c, n_p = M.shape
    places = np.arange(n_c, dtype=np.int64) * 7919 + 11  # not 0..n-1: ids are arbitrary
    codes = np.array([f"a{j:04d}" for j in range(n_p)])
    M_df, pci_df = _frames(spark, M, pci, places, codes)
    rows, cooc = outlook(M_df, pci_df, settings, partitions, block_cells)
    cooc, rows = cooc.persist(), rows.persist()
    cells = density_cells(rows).toPandas()
    coi = place_coi(rows, settings.normalization).toPandas()
    pairs = proximity_pairs(cooc, settings.min_proximity).toPandas()
    blocks = rows.filter("activity IS NULL").groupBy("block").count().toPandas()
    rows.unpersist()
    cooc.unpersist()
    place_index = {p: i for i, p in enumerate(places)}
    cells["c"] = cells["place"].map(place_index)
    cells["p"] = np.searchsorted(codes, cells["activity"])
    coi["c"] = coi["place"].map(place_index)
    return cells, coi, pairs, blocks, codes


def _compare(spark, M, settings, block_cells, pci=None):
    """Distributed (many blocks) vs in-task (one block), every cell; returns the blocks' sizes."""
    if pci is None:
        pci = eci_pci_matrix(M, settings.normalization).pci
    ref = density_and_outlook_matrix(M, pci, settings.proximity_diagonal, settings.normalization)
    cells, coi, pairs, blocks, codes = _distributed(spark, M, pci, settings, block_cells)
    active = M.sum(axis=1) > 0
    assert len(cells) == active.sum() * (M.sum(axis=0) > 0).sum(), "every active pair once"
    density = np.full(M.shape, np.nan)
    cog = np.full(M.shape, np.nan)
    density[cells["c"], cells["p"]] = cells["density"].to_numpy(dtype=float, na_value=np.nan)
    cog[cells["c"], cells["p"]] = cells["cog"].to_numpy(dtype=float, na_value=np.nan)
    _close(density, ref.density, "density")
    _close(cog, ref.cog, "cog")
    got_coi = np.full(M.shape[0], np.nan)
    got_coi[coi["c"]] = coi["coi"].to_numpy(dtype=float, na_value=np.nan)
    _close(got_coi, ref.coi, "coi")
    assert (cells["mcp"].to_numpy() == M[cells["c"], cells["p"]]).all()
    return pairs, blocks, codes


def _scipy_proximity(M: np.ndarray) -> dict[tuple[int, int], float]:
    """phi_ab = (M^T M)_ab / max(u_a, u_b), a != b, non-zero: scipy.sparse, not our kernels."""
    S = sp.csr_matrix(M)
    C = (S.T @ S).tocoo()
    u = np.asarray(S.sum(axis=0)).ravel()
    keep = C.row != C.col
    a, b, v = C.row[keep], C.col[keep], C.data[keep]
    return {(int(i), int(j)): x / max(u[i], u[j]) for i, j, x in zip(a, b, v, strict=True)}


def _check_pairs(pairs: pd.DataFrame, M: np.ndarray, codes: np.ndarray) -> None:
    expected = _scipy_proximity(M)
    assert len(pairs) == len(expected), "both orders of every non-zero pair, no diagonal"
    a = np.searchsorted(codes, pairs["product_a"])
    b = np.searchsorted(codes, pairs["product_b"])
    want = np.array([expected[(i, j)] for i, j in zip(a, b, strict=True)])
    np.testing.assert_allclose(pairs["proximity"], want, rtol=1e-12, atol=0)


def r_package_presence() -> np.ndarray:
    ones = pd.read_csv(data_path(*R_DIR, "package_output_balassa_index_ones.csv"), dtype=str)
    countries = np.array(sorted(ones["country"].unique()))
    products = np.array(sorted(ones["product"].unique()))
    M = np.zeros((countries.size, products.size))
    M[np.searchsorted(countries, ones["country"]), np.searchsorted(products, ones["product"])] = 1
    return M


def test_r_package_many_blocks_equal_one(spark):
    """The R package's M (its own Balassa ones, 226 x 785): ~25 places per block, 3
    co-occurrence tasks."""
    M = r_package_presence()
    pairs, blocks, codes = _compare(spark, M, YearSettings(), block_cells=25 * M.shape[1])
    assert len(blocks) >= 6, "many blocks"
    _check_pairs(pairs, M, codes)


@pytest.mark.parametrize("normalization,diagonal", [("atlas", 0.0), ("zscore", 1.0)])
def test_small_table_single_place_blocks_ties(spark, normalization, diagonal):
    """A small place x activity table: an activity held by one place, a place with one
    activity, two identical activities (ties), a place whose activity has no PCI; blocks of
    about one place (some hold a single place)."""
    rng = np.random.default_rng(3)
    M = (rng.random((14, 9)) < 0.45).astype(float)
    M[:, 8] = M[:, 7]  # ties: activities 7 and 8 identical
    M[M.sum(axis=1) == 0, 0] = 1
    M[:, 5] = 0
    M[2, 5] = 1  # activity 5: a single entry
    M[13] = 0
    M[13, 6] = 1  # place 13: a single activity
    settings = YearSettings(normalization=normalization, proximity_diagonal=diagonal)
    pci = eci_pci_matrix(M, normalization).pci
    pci[4] = np.nan  # no PCI: its places get NULL COI, the activity NULL COG
    pairs, blocks, codes = _compare(spark, M, settings, block_cells=M.shape[1], pci=pci)
    assert (blocks["count"] == 1).any(), "a block holding a single place"
    _check_pairs(pairs, M, codes)


def test_top_k_and_absent(spark):
    """density_pairs = top_k: per place the k absent activities of highest density (ties: the
    earlier code), from a plain sort of the in-task density; absent: every M = 0 cell."""
    rng = np.random.default_rng(5)
    M = (rng.random((12, 10)) < 0.4).astype(float)
    M[:, 9] = M[:, 8]  # tied densities
    M[M.sum(axis=1) == 0, 0] = 1
    pci = eci_pci_matrix(M).pci
    ref = density_and_outlook_matrix(M, pci)
    k = 3
    cells, *_ = _distributed(
        spark, M, pci, YearSettings(density_pairs="top_k", density_top_k=k), 20
    )
    for c in range(M.shape[0]):
        order = sorted(
            (p for p in range(M.shape[1]) if M[c, p] == 0), key=lambda p: (-ref.density[c, p], p)
        )
        got = sorted(cells.loc[cells["c"] == c, "p"])
        assert got == sorted(order[:k]), f"place {c}: top {k} absent by density"
    cells, *_ = _distributed(spark, M, pci, YearSettings(density_pairs="absent"), 20)
    assert len(cells) == int((M == 0).sum()) and (cells["mcp"] == 0).all()
