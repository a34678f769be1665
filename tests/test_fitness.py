"""Fitness and Complexity: numpy core, block algorithm, Spark paths, and the R package reference.

Tolerances: 1e-9 relative against the R package's stored vectors (its own code reproduces them to
1e-14) and between the two execution paths (they differ only in summation order); 1e-12 relative
against the independent implementation below; exact equality for M.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pyspark.sql import functions as F

from lib.config import FitnessConfig
from lib.fitness import (
    fitness_complexity,
    fitness_complexity_blocks,
    fitness_complexity_matrix,
    iterate_fitness,
)
from tests.conftest import shared_path
from tests.reference_data import R_DIR, presence, r_package_exports

MCP_DDL = "year int, country_code int, product string, mcp int"


# --- an independent, deliberately plain implementation (loops, no shared code) --------------


def plain_fitness(M: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    rows = [c for c in range(M.shape[0]) if M[c].sum() > 0]
    cols = [p for p in range(M.shape[1]) if M[:, p].sum() > 0]
    fit = {c: 1.0 for c in rows}
    cpx = {p: 1.0 for p in cols}
    for _ in range(steps):
        new_fit = {c: sum(M[c, p] * cpx[p] for p in cols) for c in rows}
        new_cpx = {p: 1.0 / sum(M[c, p] / fit[c] for c in rows) for p in cols}
        mean_f = sum(new_fit.values()) / len(rows)
        mean_q = sum(new_cpx.values()) / len(cols)
        fit = {c: v / mean_f for c, v in new_fit.items()}
        cpx = {p: v / mean_q for p, v in new_cpx.items()}
    F_out = np.array([fit.get(c, np.nan) for c in range(M.shape[0])])
    Q_out = np.array([cpx.get(p, np.nan) for p in range(M.shape[1])])
    return F_out, Q_out


def assert_close(actual, expected, rtol, what):
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=f"{what}: NaN")
    ok = ~np.isnan(expected)
    rel = np.max(np.abs(actual[ok] / expected[ok] - 1), initial=0.0)
    assert rel <= rtol, f"{what}: max relative difference {rel:.3g} > {rtol:g}"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_core_matches_plain_implementation(seed):
    rng = np.random.default_rng(seed)
    M = (rng.random((9, 13)) < 0.35).astype(float)
    M[3] = 0  # zero-diversity country
    M[:, 5] = 0  # zero-ubiquity product
    res = fitness_complexity_matrix(M, max_iterations=25, tolerance=0)
    F_ref, Q_ref = plain_fitness(M, 25)
    assert_close(res.fitness, F_ref, 1e-12, "fitness vs plain loops (rtol 1e-12)")
    assert_close(res.complexity, Q_ref, 1e-12, "complexity vs plain loops (rtol 1e-12)")
    assert res.iterations == 25


def test_tolerance_rule_and_empty_matrix():
    rng = np.random.default_rng(5)
    M = (rng.random((12, 20)) < 0.5).astype(float)
    full = fitness_complexity_matrix(M, max_iterations=500, tolerance=0)
    assert full.iterations == 500
    early = fitness_complexity_matrix(M, max_iterations=500, tolerance=1e-6)
    assert early.iterations < 500 and early.final_change < 1e-6
    # The step before stopping was still above the tolerance.
    before = fitness_complexity_matrix(M, max_iterations=early.iterations - 1, tolerance=0)
    assert before.final_change >= 1e-6
    none = fitness_complexity_matrix(np.zeros((3, 4)), max_iterations=10)
    assert none.iterations == 0 and np.isnan(none.fitness).all() and np.isnan(none.final_change)


@pytest.mark.parametrize("inactive", [False, True])
def test_driver_stops_at_the_last_finite_iterate(inactive):
    """An update with a zero, infinite or NaN entry is not taken: that key stops with the
    iterate before it (with and without inactive entries, which take another code path)."""
    ac = np.array([True, True, not inactive])
    ap = np.array([True, not inactive, True, True])
    for stop, bad in ((3, 0.0), (4, np.inf), (5, np.nan)):
        calls = []

        def partials(vectors, stop=stop, bad=bad, calls=calls):
            calls.append(len(calls) + 1)
            f_tilde = np.where(ac, np.arange(1.0, 4.0) * len(calls), np.nan)
            if len(calls) == stop:  # only this step's update is unusable
                f_tilde[0] = bad
            return {0: (f_tilde, np.where(ap, np.arange(1.0, 5.0), np.nan))}

        res = iterate_fitness({0: (ac, ap)}, partials, 10, 0.0)[0]
        assert calls == list(range(1, stop + 1))  # the key stopped at the bad step
        assert res.iterations == stop - 1
        assert np.array_equal(np.isnan(res.fitness), ~ac)
        kept = np.arange(1.0, 4.0)[ac]  # F~ of step stop - 1 (proportional), normalised
        np.testing.assert_allclose(res.fitness[ac], kept / kept.mean(), rtol=1e-15)


# --- properties (hypothesis) ---------------------------------------------------------------


@st.composite
def sparse_matrices(draw):
    n_c = draw(st.integers(1, 9))
    n_p = draw(st.integers(1, 12))
    return draw(arrays(np.float64, (n_c, n_p), elements=st.sampled_from([0.0, 0.0, 1.0])))


@settings(max_examples=50, deadline=None)
@given(M=sparse_matrices(), steps=st.integers(1, 30), seed=st.integers(0, 2**16))
def test_core_invariants(M, steps, seed):
    res = fitness_complexity_matrix(M, steps, tolerance=0)
    ac, ap = M.sum(1) > 0, M.sum(0) > 0
    # NaN exactly on inactive rows / columns.
    assert np.array_equal(np.isnan(res.fitness), ~ac)
    assert np.array_equal(np.isnan(res.complexity), ~ap)
    if ac.any():
        assert res.iterations == steps
        # mean 1 over active entries and positive (tolerance 1e-12: rounding only).
        assert abs(res.fitness[ac].mean() - 1) < 1e-12
        assert abs(res.complexity[ap].mean() - 1) < 1e-12
        assert (res.fitness[ac] > 0).all() and (res.complexity[ap] > 0).all()
    # Permutation equivariance (rtol 1e-9: summation order changes).
    rng = np.random.default_rng(seed)
    rp, cp = rng.permutation(M.shape[0]), rng.permutation(M.shape[1])
    perm = fitness_complexity_matrix(M[np.ix_(rp, cp)], steps, tolerance=0)
    assert_close(perm.fitness, res.fitness[rp], 1e-9, "permuted fitness (rtol 1e-9)")
    assert_close(perm.complexity, res.complexity[cp], 1e-9, "permuted complexity (rtol 1e-9)")


@settings(max_examples=50, deadline=None)
@given(
    M=sparse_matrices(),
    steps=st.integers(1, 40),
    block_size=st.integers(1, 5),
    tolerance=st.sampled_from([0.0, 1e-3, 1e-8]),
)
def test_block_algorithm_equals_whole_matrix_core(M, steps, block_size, tolerance):
    dense = fitness_complexity_matrix(M, steps, tolerance)
    blocks = fitness_complexity_blocks(M, steps, tolerance, block_size)
    assert blocks.iterations == dense.iterations
    assert_close(blocks.fitness, dense.fitness, 1e-9, "blocks vs core fitness (rtol 1e-9)")
    assert_close(blocks.complexity, dense.complexity, 1e-9, "blocks vs core complexity (rtol 1e-9)")


# --- Spark ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def r_package_mcp(spark):
    """The R package's trade data as one fake year, RCA and M computed by lib.rca in Spark."""
    exports, codes = r_package_exports(spark)
    mcp = (
        presence(exports)
        .select("year", "country_code", "product", "export_value", "rca", "mcp")
        .cache()
    )
    yield mcp, codes
    mcp.unpersist()


def _country_series(df, year, codes=None):
    pdf = df.filter(F.col("year") == year).toPandas().set_index("country_code").sort_index()
    if codes is not None:
        inverse = {i: c for c, i in codes.items()}
        pdf.index = [inverse[i] for i in pdf.index]
    return pdf


def test_r_package_reference_via_spark(spark, r_package_mcp):
    mcp, codes = r_package_mcp
    inverse = {i: c for c, i in codes.items()}

    # M equals the package's balassa_index ones, exactly.
    ones = pd.read_csv(shared_path(*R_DIR, "package_output_balassa_index_ones.csv"), dtype=str)
    ours = mcp.filter("mcp = 1").select("country_code", "product").toPandas()
    ours_pairs = {(inverse[c], p) for c, p in zip(ours.country_code, ours["product"], strict=True)}
    assert ours_pairs == set(zip(ones.country, ones["product"], strict=True)), "M differs from R"

    cfg = FitnessConfig(max_iterations=19, tolerance=0.0, execution="per_year")
    country, product, convergence = fitness_complexity(mcp, cfg)
    got_f = _country_series(country, 2000, codes)["fitness"]
    ref_f = pd.read_csv(shared_path(*R_DIR, "package_output_fitness_country.csv"))
    ref_f = ref_f.set_index("country")["fitness"].loc[got_f.index]
    assert_close(got_f.to_numpy(), ref_f.to_numpy(), 1e-9, "fitness vs R package (rtol 1e-9)")

    got_q = product.toPandas().set_index("product")["complexity"]
    ref_q = pd.read_csv(
        shared_path(*R_DIR, "package_output_fitness_product.csv"), dtype={"product": str}
    ).set_index("product")["complexity"]
    assert set(got_q.index) == set(ref_q.index)
    assert_close(
        got_q.loc[ref_q.index].to_numpy(), ref_q.to_numpy(), 1e-9, "complexity vs R (rtol 1e-9)"
    )
    conv = convergence.collect()
    assert [(r.year, r.iterations, r.execution) for r in conv] == [(2000, 19, "per_year")]


def test_spark_paths_agree_and_auto_selection(spark, r_package_mcp):
    """per_year vs country_blocks on a mid-size matrix (226 x 785), and auto choosing per year.

    Year 2000 is the full matrix; year 2001 the first 60 countries only. With max_cells_per_task
    between the two sizes, auto runs 2000 in country blocks and 2001 per year.
    """
    mcp, _ = r_package_mcp
    two_years = mcp.unionByName(
        mcp.filter(F.col("country_code") < 60).withColumn("year", F.lit(2001))
    )
    base = {"max_iterations": 10, "tolerance": 1e-300}
    per_year = fitness_complexity(two_years, FitnessConfig(**base, execution="per_year"))
    auto = fitness_complexity(
        two_years,
        FitnessConfig(**base, execution="auto", max_cells_per_task=60 * 785, country_block_size=50),
    )
    executions = {r.year: (r.execution, r.iterations) for r in auto[2].collect()}
    assert executions == {2000: ("country_blocks", 10), 2001: ("per_year", 10)}

    for year in (2000, 2001):
        a = _country_series(per_year[0], year)
        b = _country_series(auto[0], year)
        assert_close(b.fitness.to_numpy(), a.fitness.to_numpy(), 1e-9, f"{year} fitness paths")
        assert (a.fitness_rank == b.fitness_rank).all()
        pa = per_year[1].filter(F.col("year") == year).toPandas().set_index("product").sort_index()
        pb = auto[1].filter(F.col("year") == year).toPandas().set_index("product").sort_index()
        assert_close(
            pb.complexity.to_numpy(), pa.complexity.to_numpy(), 1e-9, f"{year} complexity paths"
        )
        np.testing.assert_allclose(pb.log10_complexity, pa.log10_complexity, rtol=0, atol=1e-9)


@pytest.mark.parametrize("execution", ["per_year", "country_blocks"])
def test_zero_diversity_and_zero_ubiquity(spark, execution):
    rng = np.random.default_rng(11)
    M = (rng.random((8, 10)) < 0.4).astype(int)
    M[M.sum(1) == 0, 0] = 1
    M[0, M.sum(0) == 0] = 1
    rows = [(2010, 100 + c, f"p{p:02d}", int(M[c, p])) for c in range(8) for p in range(10)]
    rows += [(2010, 999, f"p{p:02d}", 0) for p in range(3)]  # exports, but no M = 1
    rows += [(2010, 100 + c, "zz", 0) for c in range(4)]  # a product nobody has
    mcp = spark.createDataFrame(rows, MCP_DDL)
    cfg = FitnessConfig(max_iterations=8, tolerance=0.0, execution=execution, country_block_size=3)
    country, product, convergence = fitness_complexity(mcp, cfg)

    c = country.toPandas().set_index("country_code").sort_index()
    p = product.toPandas().set_index("product").sort_index()
    values_c = ["fitness", "log10_fitness", "fitness_rank"]
    values_p = ["complexity", "log10_complexity", "complexity_rank"]
    assert c.loc[999, values_c].isna().all(), "zero-diversity country must be NULL"
    assert p.loc["zz", values_p].isna().all(), "zero-ubiquity product must be NULL"
    expected = fitness_complexity_matrix(M.astype(float), 8, 0.0)
    # Rest equal to the computation without them (rtol 1e-12).
    assert_close(c.fitness.drop(999).to_numpy(), expected.fitness, 1e-12, "fitness rest")
    assert_close(p.complexity.drop("zz").to_numpy(), expected.complexity, 1e-12, "complexity rest")
    assert c.fitness_rank.drop(999).min() == 1
    assert convergence.collect()[0].iterations == 8
