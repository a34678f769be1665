"""lib.measures.regional against independent computations (plain loops over the definitions) and the
documented examples of EconGeo (Balland) and REAT (Wieland) where they state their values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lib.measures.regional import (
    entries_and_exits,
    herfindahl_index,
    hoover_index,
    krugman_index,
    location_quotient,
    locational_gini,
    place_structure_rows,
    relatedness_density,
    shannon_entropy,
    specialisation_changes,
)
from lib.measures.yearly import YearSettings, year_presence

# EconGeo's example region x industry matrix (location_quotient, locational_gini docs).
ECONGEO_MAT = np.array(
    [
        [100, 0, 0, 0, 0],
        [0, 15, 5, 70, 10],
        [0, 20, 10, 20, 50],
        [0, 25, 30, 5, 40],
        [0, 40, 55, 5, 0],
    ],
    dtype=float,
)


def _random_matrix(seed: int, shape=(9, 14)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.lognormal(3, 1.5, shape) * (rng.random(shape) < 0.7)
    X[0, :] = 0.0  # a place with nothing
    X[:, 0] = 0.0  # an activity nowhere
    X[1, 1:] = 5.0  # a place spread evenly
    return X


# --- independent references: loops over the written definitions ----------------------------


def _ref_lq(X):
    total = sum(sum(row) for row in X)
    out = np.zeros_like(X)
    for p in range(X.shape[0]):
        for a in range(X.shape[1]):
            if X[p, a] > 0:
                out[p, a] = (X[p, a] / sum(X[p])) / (sum(X[:, a]) / total)
    return out


def _ref_place(X, p):
    """(Krugman, Herfindahl, entropy) of place p, or NaNs."""
    size = sum(X[p])
    if size == 0:
        return math.nan, math.nan, math.nan
    total = X.sum()
    krugman = sum(abs(X[p, a] / size - X[:, a].sum() / total) for a in range(X.shape[1]))
    herfindahl = sum((X[p, a] / size) ** 2 for a in range(X.shape[1]))
    entropy = -sum(
        (X[p, a] / size) * math.log2(X[p, a] / size) for a in range(X.shape[1]) if X[p, a] > 0
    )
    return krugman, herfindahl, entropy


def _ref_hoover(column, reference):
    if sum(column) == 0:
        return math.nan
    return 0.5 * sum(
        abs(c / sum(column) - r / sum(reference)) for c, r in zip(column, reference, strict=True)
    )


def _ref_locational_gini(X, a):
    """Shoelace area of the polygon (0,0) -> localisation curve points -> back along the
    diagonal, halved as EconGeo's documentation describes (limit 0.5)."""
    column, size = X[:, a], X.sum(axis=1)
    if column.sum() == 0:
        return math.nan
    keep = size > 0
    column, size = column[keep], size[keep]
    order = sorted(range(len(column)), key=lambda i: column[i] / size[i])
    xs, ys = [0.0], [0.0]
    for i in order:
        xs.append(xs[-1] + size[i] / size.sum())
        ys.append(ys[-1] + column[i] / column.sum())
    twice_area = sum(xs[i] * ys[i + 1] - ys[i] * xs[i + 1] for i in range(len(xs) - 1))
    return twice_area / 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_measures_match_loops(seed):
    X = _random_matrix(seed)
    np.testing.assert_allclose(location_quotient(X), _ref_lq(X), rtol=1e-12)
    ref = np.array([_ref_place(X, p) for p in range(X.shape[0])])
    np.testing.assert_allclose(krugman_index(X), ref[:, 0], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(herfindahl_index(X), ref[:, 1], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(shannon_entropy(X), ref[:, 2], rtol=1e-12, equal_nan=True)
    ref_hoover = [_ref_hoover(X[:, a], X.sum(axis=1)) for a in range(X.shape[1])]
    np.testing.assert_allclose(hoover_index(X), ref_hoover, rtol=1e-12, equal_nan=True)
    ref_gini = [_ref_locational_gini(X, a) for a in range(X.shape[1])]
    np.testing.assert_allclose(locational_gini(X), ref_gini, atol=1e-12, equal_nan=True)


def test_bounds_and_limits():
    X = _random_matrix(5)
    k, h, e = krugman_index(X), herfindahl_index(X), shannon_entropy(X)
    ok = ~np.isnan(k)
    assert np.all((k[ok] >= 0) & (k[ok] <= 2))
    assert np.all((h[ok] >= 1 / X.shape[1]) & (h[ok] <= 1 + 1e-12))
    assert np.all((e[ok] >= 0) & (e[ok] <= math.log2(X.shape[1]) + 1e-12))
    # place 1 is spread evenly over the 13 activities: H = 1/13, entropy = log2 13
    assert h[1] == pytest.approx(1 / 13) and e[1] == pytest.approx(math.log2(13))
    g = locational_gini(X)
    assert np.all((g[1:] >= -1e-12) & (g[1:] < 0.5))
    # An activity in proportion to total employment: Hoover and locational Gini 0.
    Y = np.array([[10.0, 20, 30], [20, 40, 60], [5, 10, 15]])
    np.testing.assert_allclose(hoover_index(Y), 0, atol=1e-15)
    np.testing.assert_allclose(locational_gini(Y), 0, atol=1e-15)
    np.testing.assert_allclose(krugman_index(Y), 0, atol=1e-15)
    # Two equal places with disjoint structures: Krugman 1 each.
    np.testing.assert_allclose(krugman_index(np.eye(2)), [1.0, 1.0])


def test_reat_documented_location_quotient():
    """REAT's locq example (Farhauer/Kroell 2013): locq(1714, 79006, 879213, 15593224) returns
    0.3847623 (e_ij, region total, industry total, grand total)."""
    e_ij, e_j, e_i, e = 1714, 79006, 879213, 15593224
    X = np.array([[e_ij, e_j - e_ij], [e_i - e_ij, e - e_j - e_i + e_ij]], dtype=float)
    assert location_quotient(X)[0, 0] == pytest.approx(0.3847623, abs=5e-8)


def test_econgeo_documented_hoover_examples():
    """EconGeo's hoover_index examples and what its documentation says of each (scale 0-1
    here, 0-100 there): pop (10, 15, 20, 25, 30); industry 2 'perfectly proportional to
    population' -> 0; industry 3, '30% of the pop. produces 100% of the output' -> 70;
    industry 4, '55% of the pop. produces 100%' -> 45; the vector (0, 10, 10, 30, 50) where
    '30% of the population produces 50% of the industrial output' -> 25."""
    pop = np.array([10, 15, 20, 25, 30], dtype=float)
    mat = np.array(
        [[0, 10, 0, 0], [0, 15, 0, 0], [0, 20, 0, 0], [0, 25, 0, 1], [0, 30, 1, 1]], dtype=float
    )
    got = hoover_index(mat, pop)
    assert np.isnan(got[0])  # industry 1 is nowhere
    np.testing.assert_allclose(got[1:], [0.0, 0.70, 0.45], atol=1e-15)
    ind = np.array([[0, 10, 10, 30, 50]], dtype=float).T
    assert hoover_index(ind, pop)[0] == pytest.approx(0.25)


def test_econgeo_example_matrix():
    """EconGeo's example matrix: R1 alone holds I1, so I1's LQ there is X/X_R1 over its
    national share; I1 is the most localised activity (locational Gini), and the measures
    match the loop references."""
    X = ECONGEO_MAT
    lq = location_quotient(X)
    assert lq[0, 0] == pytest.approx(1 / (100 / 500))  # R1 is all I1; I1 is 1/5 of the total
    assert np.count_nonzero(lq[:, 0]) == 1
    g = locational_gini(X)
    assert np.argmax(g) == 0 and g[0] == pytest.approx(0.5 * (1 - 100 / 500))
    ref = [_ref_locational_gini(X, a) for a in range(5)]
    np.testing.assert_allclose(g, ref, atol=1e-12)
    assert krugman_index(X)[0] == pytest.approx(2 * (1 - 100 / 500))


def test_relatedness_density():
    """density_pa = sum_j M_pj phi_ja / sum_j phi_ja with phi = min of the two conditional
    probabilities (EconGeo's relatedness_density / 100 with that relatedness), by loops."""
    rng = np.random.default_rng(3)
    M = (rng.random((8, 10)) < 0.4).astype(float)
    M[0, :] = 1  # every activity active
    u = M.sum(axis=0)
    phi = np.array(
        [
            [0.0 if i == j else (M[:, i] * M[:, j]).sum() / max(u[i], u[j]) for j in range(10)]
            for i in range(10)
        ]
    )
    ref = np.array(
        [
            [sum(M[p, j] * phi[j, a] for j in range(10)) / phi[:, a].sum() for a in range(10)]
            for p in range(8)
        ]
    )
    np.testing.assert_allclose(relatedness_density(M), ref, rtol=1e-12)
    with_diagonal = ref * 0
    for a in range(10):
        column = phi[:, a].copy()
        column[a] = 1.0
        with_diagonal[:, a] = M @ column / column.sum()
    np.testing.assert_allclose(relatedness_density(M, diagonal=1.0), with_diagonal, rtol=1e-12)


def test_entries_and_exits_econgeo_example():
    """EconGeo's entry_list example: mat2 is mat1 with [3, 1] (R3, I1) set to 1: one entry."""
    rng = np.random.default_rng(31)
    mat1 = rng.integers(0, 2, (5, 4)).astype(float)
    mat1[2, 0] = 0
    mat2 = mat1.copy()
    mat2[2, 0] = 1
    entered, exited = entries_and_exits(mat1, mat2)
    assert list(zip(*np.nonzero(entered), strict=True)) == [(2, 0)] and not exited.any()
    entered, exited = entries_and_exits(mat2, mat1)  # and back: one exit
    assert list(zip(*np.nonzero(exited), strict=True)) == [(2, 0)] and not entered.any()


def test_specialisation_changes_from_long_rows():
    before = pd.DataFrame(
        {"country_code": [1, 1, 2, 3], "product": ["A", "B", "A", "C"], "mcp": [1, 1, 0, 1]}
    )
    after = pd.DataFrame(
        {"country_code": [1, 1, 2, 4], "product": ["A", "C", "A", "C"], "mcp": [1, 1, 1, 1]}
    )
    got = specialisation_changes(before, after)
    pairs = {(r.country_code, r.product, r.change) for r in got.itertuples()}
    expected_entries = {(1, "C"), (2, "A"), (4, "C")}
    expected_exits = {(1, "B"), (3, "C")}  # place 3 absent after: counts as M = 0
    assert pairs == {(c, p, "entry") for c, p in expected_entries} | {
        (c, p, "exit") for c, p in expected_exits
    }


def test_place_structure_rows_through_year_presence():
    """The yearly rows use the presence matrices of lib.measures.yearly (thresholds, RCA, M)."""
    X = _random_matrix(7)
    r, c = np.nonzero(X)
    rows = pd.DataFrame(
        {"country_code": r + 10, "product": [f"A{j:02d}" for j in c], "export_value": X[r, c]}
    )
    yp = year_presence(rows, YearSettings())
    np.testing.assert_allclose(yp.rca, location_quotient(X[np.ix_(X.sum(1) > 0, X.sum(0) > 0)]))
    tables = place_structure_rows(2020, yp)
    place, activity = tables["place"], tables["activity"]
    kept = X[np.ix_(X.sum(1) > 0, X.sum(0) > 0)]
    np.testing.assert_allclose(place["krugman_index"], krugman_index(kept), rtol=1e-12)
    np.testing.assert_allclose(activity["locational_gini"], locational_gini(kept), atol=1e-12)
    assert list(place["specialisations"]) == list(yp.M.sum(axis=1).astype(int))
    assert (place["year"] == 2020).all() and list(activity["product"]) == list(yp.codes[1])
