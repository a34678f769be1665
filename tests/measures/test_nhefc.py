"""lib.measures.nhefc (non-homogeneous Fitness, Servedio et al. 2018) against values worked out
independently: the closed form on a full matrix, a root finder on the fixed-point equations, and
the R package's real data (rank agreement with Tacchella's Fitness)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import fsolve
from scipy.stats import spearmanr

from lib.measures.nhefc import nhefc_fixed_point, nhefc_matrix
from lib.measures.yearly import YearSettings
from tests.conftest import data_path
from tests.measures.test_yearly import year_summary
from tests.reference_data import R_DIR


@pytest.mark.parametrize(
    ("n", "m", "delta"), [(1, 1, 0.1), (3, 5, 0.01), (4, 4, 0.3), (6, 2, 1e-3)]
)
def test_full_matrix_closed_form(n, m, delta):
    """All-ones n x m: F = delta^2 + m / P, P = 1 + n / F, so F solves
    F^2 + (n - m - delta^2) F - delta^2 n = 0 (the positive root)."""
    b = n - m - delta**2
    F = (-b + np.sqrt(b * b + 4 * delta**2 * n)) / 2
    fp = nhefc_fixed_point(np.ones((n, m)), delta, 100_000, 1e-14)
    np.testing.assert_allclose(fp.F, F, rtol=1e-9)
    np.testing.assert_allclose(fp.P, 1 + n / F, rtol=1e-9)


def _random_matrix(seed: int, shape=(9, 14), density=0.45) -> np.ndarray:
    rng = np.random.default_rng(seed)
    M = (rng.random(shape) < density).astype(float)
    M[np.arange(shape[0]), rng.integers(0, shape[1], shape[0])] = 1  # no empty row
    M[rng.integers(0, shape[0], shape[1]), np.arange(shape[1])] = 1  # no empty column
    return M


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fixed_point_equals_root_of_the_equations(seed):
    """scipy's root finder on the equations in log variables, from another start."""
    M, delta = _random_matrix(seed), 0.05
    n_c = M.shape[0]

    def equations(x):
        F, P = np.exp(x[:n_c]), np.exp(x[n_c:])
        return np.concatenate(
            [np.log(F) - np.log(delta**2 + M @ (1 / P)), np.log(P) - np.log(1 + M.T @ (1 / F))]
        )

    root = fsolve(equations, np.full(sum(M.shape), 0.5), xtol=1e-12)
    fp = nhefc_fixed_point(M, delta, 10_000, 1e-14)
    np.testing.assert_allclose(fp.F, np.exp(root[:n_c]), rtol=1e-8)
    np.testing.assert_allclose(fp.P, np.exp(root[n_c:]), rtol=1e-8)
    # the reported vectors: F and Q = 1 / sum_c M_cp / F_c, each over its mean
    res = nhefc_matrix(M, delta, 10_000, 1e-14)
    F = np.exp(root[:n_c])
    Q = 1 / (M.T @ (1 / F))
    np.testing.assert_allclose(res.fitness, F / F.mean(), rtol=1e-8)
    np.testing.assert_allclose(res.complexity, Q / Q.mean(), rtol=1e-8)


def test_inactive_rows_and_columns_are_null_and_ignored():
    M = _random_matrix(4)
    padded = np.zeros((M.shape[0] + 1, M.shape[1] + 1))
    padded[1:, :-1] = M
    res, sub = nhefc_matrix(padded, 0.01, 5000, 1e-13), nhefc_matrix(M, 0.01, 5000, 1e-13)
    assert np.isnan(res.fitness[0]) and np.isnan(res.complexity[-1])
    np.testing.assert_allclose(res.fitness[1:], sub.fitness, rtol=1e-12)
    with pytest.raises(ValueError, match="delta"):
        nhefc_fixed_point(M, 0.0, 10, 0.0)


def r_package_rows() -> tuple[pd.DataFrame, dict[str, int]]:
    """The R package's real world trade 1998-2000 as one year's exports rows."""
    trade = pd.read_csv(
        data_path(*R_DIR, "world_trade_avg_1998_to_2000.csv"), dtype={"product": str}
    )
    codes = {c: i for i, c in enumerate(sorted(trade["country"].unique()))}
    return pd.DataFrame(
        {
            "country_code": trade["country"].map(codes),
            "product": trade["product"],
            "export_value": trade["value"].astype(float),
        }
    ), codes


def r_package_fitness(codes: dict[str, int]) -> pd.Series:
    ref = pd.read_csv(data_path(*R_DIR, "package_output_fitness_country.csv"))
    return ref.set_index(ref["country"].map(codes))["fitness"].sort_index()


def test_r_package_data_rank_agreement_with_fitness():
    """On the R package's real data, through the yearly core production runs: NHEFC converges
    (the fixed point, unlike Tacchella's map) and ranks countries as Fitness does (Spearman
    0.994 with the package's 19-step Fitness; docs/configuration.md, "Fitness variants")."""
    rows, codes = r_package_rows()
    tables = year_summary(2000, rows, YearSettings(fitness_method="nhefc"))
    country = tables["country"].set_index("country_code").sort_index()
    conv = tables["convergence"].iloc[0]
    assert conv["method"] == "nhefc" and conv["iterations"] < 200 and conv["final_change"] < 1e-12
    rho = spearmanr(country["fitness"], r_package_fitness(codes)).statistic
    assert rho > 0.99, rho
    # delta stands for its limit 0: a 100x smaller delta changes no rank
    small = year_summary(2000, rows, YearSettings(fitness_method="nhefc", nhefc_delta=1e-5))
    small_f = small["country"].set_index("country_code").sort_index()["fitness"]
    assert spearmanr(small_f, country["fitness"]).statistic == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(small_f, country["fitness"], rtol=1e-4)
