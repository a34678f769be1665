"""GENEPY, the GENeralised Economic comPlexitY index (Sciarra, Chiarotti, Ridolfi, Laio 2020,
"Reconciling contrasting views on economic complexity", Nature Communications 11, 3352;
``fitness.method = "genepy"``).

The index reads a country's complexity off the first two eigenvectors of a country-country
proximity built from M weighted by non-linear (Fitness-Complexity-like) degrees:

    k_c = sum_p M_cp / k_p,   k_p = sum_c M_cp / k_c     (the non-linear degrees)
    W_cp = M_cp / (k_c k_p)
    N_cc' = sum_p W_cp W_c'p  for c != c',  N_cc = 0
    lambda_1 >= lambda_2 the two largest eigenvalues of N, E_1, E_2 their unit eigenvectors
    GENEPY_c = (sum_{i=1,2} lambda_i E_ci^2)^2 + 2 sum_{i=1,2} lambda_i^2 E_ci^2

The first eigenvector carries what Fitness carries (diversification weighted by the products'
exclusivity), the second what ECI carries (which kind of products); GENEPY combines both, so
it correlates with both. The product index is the same construction on the product side
(N_pp' = sum_c W_cp W_cp', diagonal 0).

The non-linear degrees are the fixed point of the homogeneous equations above, which has no
positive solution in general (the same defect as Tacchella's map); we take the fixed point of
the non-homogeneous map of Servedio et al. 2018 (``lib.nhefc``, delta = ``fitness.nhefc_delta``):
k_c = F_c and k_p = P_p - 1 = sum_c M_cp / F_c, which satisfies both equations up to the
O(delta^2) and O(1) regularising terms. A constant factor on k_c or k_p scales N, the
eigenvalues and GENEPY by a constant: ranks do not change. Reported as ``fitness`` /
``complexity``, each divided by its mean.
"""

from __future__ import annotations

import numpy as np

from lib.fitness import FitnessResult
from lib.matrices import active_submatrix, expand
from lib.nhefc import nhefc_fixed_point


def genepy_from_weights(W: np.ndarray) -> np.ndarray:
    """GENEPY of the rows of W: from the two leading eigenpairs of W W^T with zero diagonal."""
    N = W @ W.T
    np.fill_diagonal(N, 0.0)
    if N.shape[0] < 2:
        return np.full(N.shape[0], np.nan)
    eigenvalues, vectors = np.linalg.eigh(N)  # ascending; N is symmetric
    lam = eigenvalues[::-1][:2]
    E2 = vectors[:, ::-1][:, :2] ** 2
    return (E2 @ lam) ** 2 + 2.0 * (E2 @ lam**2)


def genepy_matrix(
    M: np.ndarray, delta: float, max_iterations: int, tolerance: float
) -> FitnessResult:
    """Country and product GENEPY (each mean 1) of a 0/1 matrix; NaN where inactive. The
    iterations and final change are those of the non-linear degrees' fixed point."""
    ac, ap, sub = active_submatrix(M)
    if not sub.size:
        return FitnessResult(np.full(ac.size, np.nan), np.full(ap.size, np.nan), 0, np.nan)
    fp = nhefc_fixed_point(sub, delta, max_iterations, tolerance)
    k_c, k_p = fp.F, sub.T @ (1.0 / fp.F)
    W = sub / k_c[:, None] / k_p[None, :]
    country, product = genepy_from_weights(W), genepy_from_weights(W.T)
    return FitnessResult(
        expand(country / np.mean(country), ac),
        expand(product / np.mean(product), ap),
        fp.iterations,
        fp.final_change,
    )
