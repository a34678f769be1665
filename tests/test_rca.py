"""RCA (Balassa and additive), presence, diversification and ubiquity against numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lib.rca import binary_presence, diversification, revealed_comparative_advantage, ubiquity

EXPORTS_SCHEMA = "year int, country_code int, product string, export_value double"


def long_exports(X: np.ndarray, year: int = 2001) -> list[tuple]:
    return [(year, int(c), f"{p:04d}", float(X[c, p])) for c, p in zip(*np.nonzero(X), strict=True)]


def numpy_rca(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # NaN (0 / 0) for a country or product without exports: never compared, Spark has no rows.
    with np.errstate(invalid="ignore", divide="ignore"):
        country_share = X / X.sum(1, keepdims=True)
        world_share = X.sum(0) / X.sum()
        return country_share / world_share, country_share - world_share


sparse_exports = arrays(
    np.float64,
    st.tuples(st.integers(2, 7), st.integers(2, 9)),
    elements=st.one_of(st.just(0.0), st.just(0.0), st.floats(1e-3, 1e9)),
).filter(lambda X: X.sum() > 0)


def near(values: np.ndarray, threshold: float) -> np.ndarray:
    """RCA within rounding of the threshold: exactly-at-threshold cases in exact arithmetic
    (e.g. equal exports everywhere, RCA = 1) come out a few ulps either side in both numpy and
    Spark, so M is not defined to the bit there."""
    return np.isclose(values, threshold, rtol=1e-12, atol=0.0)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    matrices=st.lists(sparse_exports, min_size=1, max_size=6),
    threshold=st.sampled_from([0.5, 1.0, 2.0]),
    strict=st.booleans(),
)
def test_rca_matches_numpy_on_random_sparse_matrices(spark, matrices, threshold, strict):
    """Each matrix is one year (one Spark job checks several); empty rows and columns included:
    they simply have no rows in the long input."""
    rows = [r for year, X in enumerate(matrices, 2001) for r in long_exports(X, year)]
    df = spark.createDataFrame(rows, EXPORTS_SCHEMA)
    result = (
        df.transform(revealed_comparative_advantage)
        .transform(binary_presence(threshold, strict))
        .toPandas()
    )
    for year, X in enumerate(matrices, 2001):
        out = result[result["year"] == year]
        rca, diff = numpy_rca(X)
        c = out["country_code"].to_numpy()
        p = out["product"].astype(int).to_numpy()
        assert len(out) == np.count_nonzero(X)
        np.testing.assert_allclose(out["rca"], rca[c, p], rtol=1e-12)
        np.testing.assert_allclose(out["rca_difference"], diff[c, p], rtol=1e-12, atol=1e-15)
        expected_m = (rca[c, p] > threshold) if strict else (rca[c, p] >= threshold)
        decided = ~near(rca[c, p], threshold)
        assert (out["mcp"].to_numpy()[decided] == expected_m[decided].astype(int)).all()
        # The additive RCA of a country sums to zero over products (shares sum to one).
        full = diff.copy()
        full[X == 0] = -(X.sum(0) / X.sum())[np.nonzero(X == 0)[1]]
        np.testing.assert_allclose(np.nansum(full[X.sum(1) > 0], axis=1), 0.0, atol=1e-12)


def test_presence_at_the_threshold_follows_strictness(spark):
    # RCA exactly 1 (a country exporting the world's mix in binary-exact numbers).
    X = np.array([[1.0, 1.0], [1.0, 1.0]])
    df = spark.createDataFrame(long_exports(X), EXPORTS_SCHEMA).transform(
        revealed_comparative_advantage
    )
    assert {r["rca"] for r in df.collect()} == {1.0}
    assert {r["mcp"] for r in df.transform(binary_presence(1.0, False)).collect()} == {1}
    assert {r["mcp"] for r in df.transform(binary_presence(1.0, True)).collect()} == {0}


def test_rca_by_year_and_counts(spark):
    X = np.array([[10.0, 0.0, 5.0], [1.0, 4.0, 0.0], [0.0, 0.0, 7.0]])
    rows = long_exports(X, 2001) + long_exports(X * np.array([[1.0], [3.0], [1.0]]), 2002)
    mcp = (
        spark.createDataFrame(rows, EXPORTS_SCHEMA)
        .transform(revealed_comparative_advantage)
        .transform(binary_presence(1.0))
    )
    d = diversification(mcp).toPandas().set_index(["year", "country_code"])["diversification"]
    u = ubiquity(mcp).toPandas().set_index(["year", "product"])["ubiquity"]
    for year, Xy in ((2001, X), (2002, X * np.array([[1.0], [3.0], [1.0]]))):
        M = numpy_rca(Xy)[0] >= 1
        M = np.where(Xy > 0, M, False)
        assert [d[(year, c)] for c in range(3)] == M.sum(1).tolist()
        assert [u[(year, f"{p:04d}")] for p in range(3)] == M.sum(0).tolist()
    assert isinstance(d, pd.Series)
