"""RCA (Balassa and additive) and presence M, through the yearly core's ``year_presence``, against
a plain loop implementation; diversification and ubiquity from the summary rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lib.measures.rca import binary_presence, revealed_comparative_advantage
from lib.measures.yearly import YearSettings, summary_tables, year_indicators, year_presence


def long_exports(X: np.ndarray) -> pd.DataFrame:
    c, p = np.nonzero(X)
    return pd.DataFrame(
        {"country_code": c, "product": [f"{q:04d}" for q in p], "export_value": X[c, p]}
    )


def plain_rca(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Loops over cells, no shared code: RCA 0 where no exports."""
    n_c, n_p = X.shape
    total = sum(X[c, p] for c in range(n_c) for p in range(n_p))
    rca, diff = np.zeros((n_c, n_p)), np.zeros((n_c, n_p))
    for c in range(n_c):
        x_c = sum(X[c, q] for q in range(n_p))
        for p in range(n_p):
            world_share = sum(X[d, p] for d in range(n_c)) / total
            share = X[c, p] / x_c if x_c > 0 else 0.0
            rca[c, p] = share / world_share if X[c, p] > 0 else 0.0
            diff[c, p] = share - world_share
    return rca, diff


EPS = np.finfo(np.float64).eps

sparse_exports = arrays(
    np.float64,
    st.tuples(st.integers(2, 7), st.integers(2, 9)),
    elements=st.one_of(st.just(0.0), st.just(0.0), st.floats(1e-3, 1e9)),
).filter(lambda X: X.sum() > 0)


def near(values: np.ndarray, threshold: float) -> np.ndarray:
    """RCA within rounding of the threshold: exactly-at-threshold cases in exact arithmetic
    (e.g. equal exports everywhere, RCA = 1) come out a few ulps either side, so M is not
    defined to the bit there."""
    return np.isclose(values, threshold, rtol=1e-12, atol=0.0)


@settings(max_examples=40, deadline=None)
@given(X=sparse_exports, threshold=st.sampled_from([0.5, 1.0, 2.0]), strict=st.booleans())
def test_rca_matches_plain_loops_on_random_sparse_matrices(X, threshold, strict):
    """Empty rows and columns included: they simply have no rows in the long input."""
    yp = year_presence(long_exports(X), YearSettings(rca_threshold=threshold, rca_strict=strict))
    rows, cols = np.flatnonzero(X.sum(1) > 0), np.flatnonzero(X.sum(0) > 0)
    rca, diff = plain_rca(X[np.ix_(rows, cols)])
    np.testing.assert_allclose(yp.rca, rca, rtol=1e-12)
    # share - world share: a difference of two sums of up to 9 shares (each <= 1) taken in
    # another order, so near zero only the absolute error is bounded: a few dozen ulps of 1
    # (hypothesis found 1.9e-15 = 8.5 ulps where both shares are ~0.12).
    np.testing.assert_allclose(yp.rca_difference, diff, rtol=1e-12, atol=32 * EPS)
    expected_m = (rca > threshold) if strict else (rca >= threshold)
    expected_m &= rca > 0
    decided = ~near(rca, threshold)
    assert (yp.M[decided] == expected_m[decided]).all()
    # The additive RCA of a country sums to zero over products (shares sum to one).
    np.testing.assert_allclose(yp.rca_difference.sum(axis=1), 0.0, atol=1e-12)


def test_presence_at_the_threshold_follows_strictness():
    # RCA exactly 1 (a country exporting the world's mix in binary-exact numbers).
    rca, _ = revealed_comparative_advantage(np.array([[1.0, 1.0], [1.0, 1.0]]))
    assert (rca == 1.0).all()
    assert binary_presence(rca, 1.0, strict=False).tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert binary_presence(rca, 1.0, strict=True).tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_diversification_and_ubiquity_rows():
    X = np.array([[10.0, 0.0, 5.0], [1.0, 4.0, 0.0], [0.0, 0.0, 7.0]])
    ind = year_indicators(2001, long_exports(X), YearSettings())
    tables = summary_tables(ind, YearSettings())
    M = (plain_rca(X)[0] >= 1) & (X > 0)
    assert tables["country"]["diversification"].tolist() == M.sum(1).tolist()
    assert tables["product"]["ubiquity"].tolist() == M.sum(0).tolist()
