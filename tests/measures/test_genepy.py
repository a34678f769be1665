"""lib.measures.genepy against the definition of Sciarra, Chiarotti, Ridolfi, Laio (2020), Nature
Communications 11, 3352: a hand-worked matrix with exact values; an independent computation
(degrees, W and N by explicit sums, numpy's general eigensolver ranked by |lambda|); and the R
package's real data (rank correlations)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from lib.measures.genepy import genepy_from_weights, genepy_index, genepy_matrix
from lib.measures.yearly import YearSettings
from tests.measures.test_nhefc import _random_matrix, r_package_fitness, r_package_rows
from tests.measures.test_yearly import year_summary


def test_hand_worked_matrix():
    """M = [[1, 0, 1], [0, 1, 1], [0, 0, 1]] (countries a, b, c; products p, q, r).

    k = (2, 2, 1); k'_p = 1/2, k'_q = 1/2, k'_r = 1/2 + 1/2 + 1 = 2;
    W = M / (k_c k'_p) = [[1, 0, 1/4], [0, 1, 1/4], [0, 0, 1/2]].

    Countries: N = W W^T off the diagonal = [[0, 1, 2], [1, 0, 2], [2, 2, 0]] / 16, eigenvalues
    (1 + sqrt 33) / 32 = 0.211, (1 - sqrt 33) / 32 = -0.148 and -1/16 = -0.0625 (on (1, -1, 0)).
    The two largest in absolute value are the first two (the second is negative), and their
    eigenvectors span the symmetric vectors (x, x, y). With Pi the projector on that span,
    sum_i lambda_i X_ci^2 = e_c' Pi N Pi e_c and sum_i lambda_i^2 X_ci^2 = |N Pi e_c|^2:
    a (and b): Pi e_a = (1/2, 1/2, 0): (N_ab / 2)^2 + 2 |(1, 1, 4) / 32|^2 = 1/1024 + 36/1024
    = 37/1024; c: Pi e_c = e_c: 0^2 + 2 |(2, 2, 0) / 16|^2 = 1/16.

    Products: G = W^T W off the diagonal = [[0, 0, 1/4], [0, 0, 1/4], [1/4, 1/4, 0]],
    eigenvalues +-sqrt(2)/4 on (1/2, 1/2, +-1/sqrt 2) and 0: the first term cancels and
    GENEPY = 2 lambda^2 (X_1^2 + X_2^2) = 2 (1/8) (1/4 + 1/4) = 1/8 for p, q and
    2 (1/8) (1/2 + 1/2) = 1/4 for r.

    (Taking the two algebraically largest eigenvalues instead would give other values:
    9/128 and 5/32 for the products.)"""
    M = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    country, product = genepy_index(M)
    np.testing.assert_allclose(country, [37 / 1024, 37 / 1024, 1 / 16], rtol=1e-12)
    np.testing.assert_allclose(product, [1 / 8, 1 / 8, 1 / 4], rtol=1e-12)
    res = genepy_matrix(M)
    np.testing.assert_allclose(res.fitness, np.array([37, 37, 64]) / 46, rtol=1e-12)
    np.testing.assert_allclose(res.complexity, [0.75, 0.75, 1.5], rtol=1e-12)
    assert res.iterations == 0 and np.isnan(res.final_change)


def test_hand_worked_weights():
    """W = [[1, 1], [0, 1]]: N = [[0, 1], [1, 0]], eigenpairs (1, (1, 1)/sqrt 2) and
    (-1, (1, -1)/sqrt 2): GENEPY = (1/2 - 1/2)^2 + 2 (1/2 + 1/2) = 2 for both.
    W = [[1, 0, 0], [1, 0, 0], [0, 0, 1]]: N = [[0, 1, 0], [1, 0, 0], [0, 0, 0]], eigenvalues 1,
    -1 and 0; the two largest in absolute value are 1 and -1 (not 0): 2 for the first two
    countries as above, 0 for the third (zero in both eigenvectors)."""
    np.testing.assert_allclose(genepy_from_weights(np.array([[1.0, 1.0], [0.0, 1.0]])), [2, 2])
    W = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(genepy_from_weights(W), [2.0, 2.0, 0.0], atol=1e-12)


def _independent_genepy(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The paper's definition by explicit sums, on a matrix with no empty row or column."""
    n_c, n_p = M.shape
    k_c = np.array([sum(M[c, p] for p in range(n_p)) for c in range(n_c)])
    k_p = np.array([sum(M[c, p] / k_c[c] for c in range(n_c)) for p in range(n_p)])
    W = np.array([[M[c, p] / (k_c[c] * k_p[p]) for p in range(n_p)] for c in range(n_c)])

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
        order = np.argsort(-np.abs(values.real), kind="stable")[:2]
        lam = values.real[order]
        X = vectors.real[:, order]
        X = X / np.linalg.norm(X, axis=0)
        return np.array(
            [
                (lam[0] * X[c, 0] ** 2 + lam[1] * X[c, 1] ** 2) ** 2
                + 2 * (lam[0] ** 2 * X[c, 0] ** 2 + lam[1] ** 2 * X[c, 1] ** 2)
                for c in range(n)
            ]
        )

    return index(W), index(W.T)


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_matches_independent_computation(seed):
    """Also with an empty country and an empty product, which are left out (NaN)."""
    M = _random_matrix(seed, (8, 12), 0.4)
    country, product = _independent_genepy(M)
    padded = np.zeros((9, 13))
    padded[:8, 1:] = M
    got_c, got_p = genepy_index(padded)
    np.testing.assert_allclose(got_c[:8], country, rtol=1e-9)
    np.testing.assert_allclose(got_p[1:], product, rtol=1e-9)
    assert np.isnan(got_c[8]) and np.isnan(got_p[0])
    res = genepy_matrix(padded)
    np.testing.assert_allclose(res.fitness[:8], country / country.mean(), rtol=1e-9)
    np.testing.assert_allclose(res.complexity[1:], product / product.mean(), rtol=1e-9)


def test_r_package_data_rank_correlations():
    """On the R package's real data, through the yearly core: GENEPY correlates with Fitness
    (Spearman 0.83 measured) and with the eigenvector ECI (0.54), as the paper's "reconciling"
    index should (docs/configuration.md, "Fitness variants")."""
    rows, codes = r_package_rows()
    tables = year_summary(2000, rows, YearSettings(fitness_method="genepy"))
    country = tables["country"].set_index("country_code").sort_index()
    conv = tables["convergence"].iloc[0]
    assert conv["method"] == "genepy" and conv["iterations"] == 0
    assert (country["fitness"] > 0).all()
    rho_fitness = spearmanr(country["fitness"], r_package_fitness(codes)).statistic
    rho_eci = spearmanr(country["fitness"], country["eci"]).statistic
    assert 0.78 < rho_fitness < 0.88, rho_fitness
    assert 0.45 < rho_eci < 0.6, rho_eci
    product = tables["product"]
    assert product["complexity"].notna().all() and (product["complexity"] > 0).all()
