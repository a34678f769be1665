"""lib.measures.matrix: long rows <-> dense M, masks and output helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.measures.matrix import (
    active_masks,
    descending_rank,
    expand,
    expand_matrix,
    largest_component,
    safe_log10,
    year_matrix,
)


def _rows() -> pd.DataFrame:
    # Unsorted on purpose; country 7 has exports but no M = 1, product "c" has no M = 1.
    return pd.DataFrame(
        {
            "country_code": [20, 4, 4, 7, 20, 7],
            "product": ["b", "a", "b", "c", "c", "a"],
            "mcp": [1, 1, 0, 0, 0, 0],
        }
    )


def test_year_matrix_layout_and_masks():
    ym = year_matrix(_rows())
    assert ym.countries.tolist() == [4, 7, 20]
    assert ym.products.tolist() == ["a", "b", "c"]
    expected = np.array([[1, 0, 0], [0, 0, 0], [0, 1, 0]], dtype=float)
    np.testing.assert_array_equal(ym.M, expected)  # exact: 0/1 values
    assert ym.diversity.tolist() == [1, 0, 1]
    assert ym.ubiquity.tolist() == [1, 1, 0]
    assert ym.active_countries.tolist() == [True, False, True]
    assert ym.active_products.tolist() == [True, True, False]
    ac, ap = active_masks(ym.M)
    assert (
        ac.tolist() == ym.active_countries.tolist() and ap.tolist() == ym.active_products.tolist()
    )


def test_largest_component():
    M = np.zeros((6, 6))
    M[[0, 0, 2, 2, 4], [0, 1, 1, 3, 3]] = 1  # countries 0, 2, 4 / products 0, 1, 3: connected
    M[[1, 5], [2, 2]] = 1  # countries 1, 5 share product 2: a second, smaller component
    # country 3 and products 4, 5 are inactive
    countries, products = largest_component(M)
    assert countries.tolist() == [True, False, True, False, True, False]
    assert products.tolist() == [True, True, False, True, False, False]
    none_c, none_p = largest_component(np.zeros((2, 3)))
    assert not none_c.any() and not none_p.any()


def test_round_trip_and_absent_pairs():
    rng = np.random.default_rng(1)
    M = (rng.random((6, 9)) < 0.3).astype(float)
    M[2] = 0  # empty row
    M[:, 4] = 0  # empty column
    ci, pi = np.nonzero(np.ones_like(M))
    rows = pd.DataFrame(
        {"country_code": ci * 3 + 1, "product": [f"{p:04d}" for p in pi], "mcp": M[ci, pi]}
    )
    ym = year_matrix(rows.sample(frac=1.0, random_state=0))  # order must not matter
    np.testing.assert_array_equal(ym.M, M)  # exact
    assert ym.countries.tolist() == sorted(set(ci * 3 + 1))


def test_duplicate_pair_is_rejected():
    rows = pd.DataFrame({"country_code": [1, 1], "product": ["a", "a"], "mcp": [1, 1]})
    with pytest.raises(ValueError, match="duplicated"):
        year_matrix(rows)


def test_expand_grid_rank_log():
    mask = np.array([True, False, True])
    out = expand(np.array([2.0, 3.0]), mask)
    assert out[0] == 2.0 and np.isnan(out[1]) and out[2] == 3.0
    full = expand_matrix(np.array([[1.0], [2.0]]), mask, np.array([False, True]))
    assert np.isnan(full[:, 0]).all() and full[0, 1] == 1.0 and np.isnan(full[1, 1])

    ranks = descending_rank(np.array([0.5, np.nan, 2.0, 0.5]))
    assert ranks.tolist() == [2, pd.NA, 1, 2]  # ties share the best rank; NaN -> null
    logs = safe_log10(np.array([100.0, 0.0, np.nan]))
    assert logs[0] == 2.0 and np.isnan(logs[1]) and np.isnan(logs[2])
