"""lib.genepy (Sciarra et al. 2020) against an independent computation: the non-linear degrees
from a root finder, N by explicit sums, the eigenpairs from numpy's general (non-symmetric)
eigensolver; a hand-worked case; and the R package's real data (rank correlations)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import fsolve
from scipy.stats import spearmanr

from lib.genepy import genepy_from_weights, genepy_matrix
from lib.indicators import YearSettings
from tests.test_indicators import year_summary
from tests.test_nhefc import _random_matrix, r_package_fitness, r_package_rows


def test_hand_worked_two_and_three_countries():
    """W = [[1, 1], [0, 1]]: N = [[0, 1], [1, 0]], eigenpairs (1, (1, 1)/sqrt 2) and
    (-1, (1, -1)/sqrt 2): GENEPY = (1/2 - 1/2)^2 + 2 (1/2 + 1/2) = 2 for both.
    W = identity-like rows with one shared product: N = [[0, 1, 0], [1, 0, 0], [0, 0, 0]]:
    lambda = 1 ((1, 1, 0)/sqrt 2) and 0 (the third country): GENEPY = (1/2)^2 + 2 (1/2) = 1.25
    for the first two, 0 for the third."""
    np.testing.assert_allclose(genepy_from_weights(np.array([[1.0, 1.0], [0.0, 1.0]])), [2, 2])
    W = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(genepy_from_weights(W), [1.25, 1.25, 0.0], atol=1e-12)


def _independent_genepy(M: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    n_c, n_p = M.shape

    def equations(x):
        F, P = np.exp(x[:n_c]), np.exp(x[n_c:])
        return np.concatenate(
            [np.log(F) - np.log(delta**2 + M @ (1 / P)), np.log(P) - np.log(1 + M.T @ (1 / F))]
        )

    root = fsolve(equations, np.zeros(n_c + n_p), xtol=1e-12)
    k_c = np.exp(root[:n_c])
    k_p = np.array([sum(M[c, p] / k_c[c] for c in range(n_c)) for p in range(n_p)])

    def index(W):
        n = W.shape[0]
        N = np.array(
            [
                [
                    0.0 if a == b else sum(W[a, k] * W[b, k] for k in range(W.shape[1]))
                    for b in range(n)
                ]
                for a in range(n)
            ]
        )
        values, vectors = np.linalg.eig(N)
        order = np.argsort(values.real)[::-1][:2]
        lam = values.real[order]
        E = vectors.real[:, order]
        E = E / np.linalg.norm(E, axis=0)
        return np.array(
            [
                (lam[0] * E[c, 0] ** 2 + lam[1] * E[c, 1] ** 2) ** 2
                + 2 * (lam[0] ** 2 * E[c, 0] ** 2 + lam[1] ** 2 * E[c, 1] ** 2)
                for c in range(n)
            ]
        )

    W = M / k_c[:, None] / k_p[None, :]
    return index(W), index(W.T)


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_matches_independent_computation(seed):
    M, delta = _random_matrix(seed, (8, 12), 0.4), 0.02
    country, product = _independent_genepy(M, delta)
    res = genepy_matrix(M, delta, 10_000, 1e-14)
    np.testing.assert_allclose(res.fitness, country / country.mean(), rtol=1e-7)
    np.testing.assert_allclose(res.complexity, product / product.mean(), rtol=1e-7)


def test_r_package_data_rank_correlations():
    """On the R package's real data, through the yearly core: GENEPY correlates with Fitness
    (Spearman 0.83 measured) and with the eigenvector ECI (0.53), as the paper's "reconciling"
    index should (README, "Fitness variants")."""
    rows, codes = r_package_rows()
    tables = year_summary(2000, rows, YearSettings(fitness_method="genepy"))
    country = tables["country"].set_index("country_code").sort_index()
    assert tables["convergence"]["method"].iloc[0] == "genepy"
    assert (country["fitness"] > 0).all()
    rho_fitness = spearmanr(country["fitness"], r_package_fitness(codes)).statistic
    rho_eci = spearmanr(country["fitness"], country["eci"]).statistic
    assert 0.78 < rho_fitness < 0.88, rho_fitness
    assert 0.45 < rho_eci < 0.6, rho_eci
    product = tables["product"]
    assert product["complexity"].notna().all() and (product["complexity"] >= 0).all()
