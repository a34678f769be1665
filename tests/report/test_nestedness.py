"""NODF on known small matrices, against a loop-by-loop implementation of the paper's definition,
and per year through Spark."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lib.io.delta import read_table
from lib.report.nestedness import nestedness_year, nodf, nodf_of_ones


def nodf_by_definition(M: np.ndarray) -> float:
    """Almeida-Neto et al. (2008): sort rows and columns by decreasing degree, then for every
    pair (i above j) N_paired = 0 if k_i <= k_j, else 100 * |ones shared| / k_j; NODF = mean."""
    M = np.asarray(M, dtype=int)
    M = M[M.sum(1) > 0][:, M.sum(0) > 0]
    M = M[np.argsort(-M.sum(1), kind="stable")][:, np.argsort(-M.sum(0), kind="stable")]
    values = []
    for A in (M, M.T):
        for i, j in itertools.combinations(range(A.shape[0]), 2):
            ki, kj = A[i].sum(), A[j].sum()
            values.append(0.0 if ki <= kj else 100.0 * (A[i] & A[j]).sum() / kj)
    return float(np.mean(values))


def test_known_matrices():
    nested = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0]])
    assert nodf(nested).nodf == 100.0
    assert nodf(np.eye(4)).nodf == 0.0  # a diagonal ("Ricardian") matrix
    assert nodf(np.ones((3, 4))).nodf == 0.0  # equal degrees: no nestedness by definition
    # Worked by hand: row pairs 100, 100, 0; column pairs 0, 0, 0, 100, 100, 100.
    M = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 1, 0]])
    result = nodf(M)
    assert np.isclose(result.rows, 200 / 3)
    assert np.isclose(result.columns, 50.0)
    assert np.isclose(result.nodf, 500 / 9)
    # Empty rows and columns do not count; order of rows and columns does not matter.
    padded = np.zeros((5, 6), dtype=int)
    padded[1:4, 1:5] = M
    assert np.isclose(nodf(padded).nodf, result.nodf)
    assert np.isclose(nodf(M[::-1, ::-1]).nodf, result.nodf)


@settings(max_examples=60, deadline=None)
@given(arrays(np.int8, st.tuples(st.integers(2, 9), st.integers(2, 9)), elements=st.integers(0, 1)))
def test_vectorised_nodf_equals_the_definition(M):
    active = M[M.sum(1) > 0][:, M.sum(0) > 0]
    if min(active.shape) < 2:
        return
    assert np.isclose(nodf(M).nodf, nodf_by_definition(M))


def test_nodf_of_ones_builds_the_matrix_from_long_rows():
    ones = pd.DataFrame({"country_code": [1, 1, 1, 2, 2, 3], "product": list("abcabb")})
    row = nodf_of_ones(2001, ones).iloc[0]
    M = np.array([[1, 1, 1], [1, 1, 0], [0, 1, 0]])
    assert row.year == 2001 and row.countries == 3 and row.products == 3
    assert np.isclose(row.nodf, nodf_by_definition(M))
    assert np.isclose(row.fill, 6 / 9)


def test_nestedness_per_year_in_spark(spark, tiny_warehouse):
    cpy = read_table(spark, tiny_warehouse.path, "country_product_year")
    got = nestedness_year(cpy, [2001, 2003]).toPandas().set_index("year")
    frame = tiny_warehouse.frames["country_product_year"]
    assert sorted(got.index) == [2001, 2003]
    for year in (2001, 2003):
        M = frame[frame.year == year].pivot(index="country_code", columns="product", values="mcp")
        assert np.isclose(got.loc[year, "nodf"], nodf_by_definition(M.to_numpy()))
        assert got.loc[year, "countries"] == (M.sum(1) > 0).sum()
