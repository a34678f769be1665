"""Fitness and Complexity: numpy core, the driver loop, and the R package reference through the
job's yearly core.

Tolerances: 1e-9 relative against the R package's stored vectors (its own code reproduces them to
1e-14); 1e-12 relative against the independent implementation below; exact equality for M.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lib.measures.fitness import fitness_complexity_matrix, iterate_fitness
from tests.conftest import data_path
from tests.reference_data import R_DIR, r_package_exports, yearly_core

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


def test_driver_stops_at_the_last_finite_iterate():
    """An update with a zero, infinite or NaN entry is not taken: the iteration stops with the
    iterate before it."""
    for stop, bad in ((3, 0.0), (4, np.inf), (5, np.nan)):
        calls = []

        def products(F_vec, Q_vec, stop=stop, bad=bad, calls=calls):
            calls.append(len(calls) + 1)
            f_tilde = np.arange(1.0, 4.0) * len(calls)
            if len(calls) == stop:  # only this step's update is unusable
                f_tilde[0] = bad
            return f_tilde, np.arange(1.0, 5.0)

        F_vec, Q_vec, iterations, _ = iterate_fitness(products, (3, 4), 10, 0.0)
        assert calls == list(range(1, stop + 1))  # stopped at the bad step
        assert iterations == stop - 1
        kept = np.arange(1.0, 4.0)  # F~ of step stop - 1 (proportional), normalised
        np.testing.assert_allclose(F_vec, kept / kept.mean(), rtol=1e-15)


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


# --- the R package's real data, through the job's yearly core ------------------------------


@pytest.fixture(scope="module")
def r_package_core():
    """The R package's trade data as one year, run through lib.measures.yearly (19 Fitness steps,
    the package's "20 iterations"; M = RCA >= 1 as the package)."""
    exports, codes = r_package_exports()
    return yearly_core(exports, max_iterations=19, tolerance=0.0), codes


def test_r_package_reference(r_package_core):
    core, codes = r_package_core
    inverse = {i: c for c, i in codes.items()}

    # M equals the package's balassa_index ones, exactly.
    ones = pd.read_csv(data_path(*R_DIR, "package_output_balassa_index_ones.csv"), dtype=str)
    ours = core.grid[core.grid["mcp"] == 1]
    ours_pairs = {(inverse[c], p) for c, p in zip(ours.country_code, ours["product"], strict=True)}
    assert ours_pairs == set(zip(ones.country, ones["product"], strict=True)), "M differs from R"

    got_f = core.country.set_index(core.country["country_code"].map(inverse))["fitness"]
    ref_f = pd.read_csv(data_path(*R_DIR, "package_output_fitness_country.csv"))
    ref_f = ref_f.set_index("country")["fitness"].loc[got_f.index]
    assert_close(got_f.to_numpy(), ref_f.to_numpy(), 1e-9, "fitness vs R package (rtol 1e-9)")

    got_q = core.product.set_index("product")["complexity"]
    ref_q = pd.read_csv(
        data_path(*R_DIR, "package_output_fitness_product.csv"), dtype={"product": str}
    ).set_index("product")["complexity"]
    assert set(got_q.index) == set(ref_q.index)
    assert_close(
        got_q.loc[ref_q.index].to_numpy(), ref_q.to_numpy(), 1e-9, "complexity vs R (rtol 1e-9)"
    )
    conv = core.convergence
    assert list(zip(conv.year, conv.iterations, strict=True)) == [(2000, 19)]


def test_zero_diversity_and_zero_ubiquity():
    """Through the yearly core: a country with exports but no M = 1 and a product nobody has
    an advantage in get NULL; the rest equals the computation without them."""
    rng = np.random.default_rng(11)
    M = (rng.random((8, 10)) < 0.4).astype(float)
    M[M.sum(1) == 0, 0] = 1
    M[0, M.sum(0) == 0] = 1
    zero_div = np.vstack([M, np.zeros((1, 10))])
    zero_both = np.hstack([zero_div, np.zeros((9, 1))])
    res = fitness_complexity_matrix(zero_both, 8, 0.0)
    expected = fitness_complexity_matrix(M, 8, 0.0)
    assert np.isnan(res.fitness[8]) and np.isnan(res.complexity[10])
    assert_close(res.fitness[:8], expected.fitness, 1e-12, "fitness rest")
    assert_close(res.complexity[:10], expected.complexity, 1e-12, "complexity rest")
    assert res.iterations == 8
