"""GENEPY, the GENEralised Economic comPlexitY index (Sciarra, Chiarotti, Ridolfi, Laio 2020,
"Reconciling contrasting views on economic complexity", Nature Communications 11, 3352,
doi:10.1038/s41467-020-16992-1; ``fitness.method = "genepy"``).

The definition, on the binary country-product matrix M (M_cp = 1 if RCA_cp >= 1, else 0):

    k_c   = sum_p M_cp                  the diversification of country c (its degree)
    k'_p  = sum_c M_cp / k_c            the ubiquity of p, each exporter weighted 1 / k_c
    W_cp  = M_cp / (k_c k'_p)
    N_cc' = sum_p W_cp W_c'p  (c != c'),  N_cc = 0          i.e. N = W W^T, zero diagonal
    X_1, X_2: the unit eigenvectors of N whose eigenvalues lambda_1, lambda_2 are the two
          largest in absolute value
    GENEPY_c = (sum_{i=1,2} lambda_i X_ci^2)^2 + 2 sum_{i=1,2} lambda_i^2 X_ci^2

The product index is the same formula on G = W^T W (zero diagonal), with the *same* W: its
eigenpairs (Y_1, Y_2) give GENEPY_p. k_c and k'_p are closed-form (no iteration); k'_p is what
the first step of the Fitness-Complexity map gives when the fitness is the diversification, so W
carries Fitness' weighting (a product counts less the more low-diversity exporters it has), and
the two eigenvectors carry what Fitness (X_1) and ECI (X_2) carry.

Checked against the first author's reference implementation (the MATLAB function
``genepy_index`` by C. Sciarra, v1.0, June 2020, whose README says it computes the index defined
in the paper): the same k_c, k'_p, W, N, G and formula. Details the formula leaves open are
settled as there:

- eigenvalues ranked by absolute value: N has zero trace, so it has negative eigenvalues, and the
  second in magnitude can be one of them. The Perron root (the largest, positive) always ranks
  first. An exact tie in magnitude between a positive and a negative eigenvalue is resolved
  positive first (the authors' code leaves it to MATLAB's sort); the formula is symmetric in
  i = 1, 2, so only which two eigenpairs are taken matters, never their order.
- eigenvector signs do not matter (only X^2 enters); eigenvectors are unit length.
- countries / products with no M_cp = 1 are left out (their k is 0) and get NaN.

The paper reports GENEPY unscaled; the ``fitness`` / ``complexity`` columns hold it divided by its
mean (as for the other fitness methods): a positive constant per year, so ranks and ratios are the
paper's.
"""

from __future__ import annotations

import numpy as np

from lib.measures.fitness import FitnessResult
from lib.measures.matrix import active_submatrix, expand


def genepy_weights(M: np.ndarray) -> np.ndarray:
    """W_cp = M_cp / (k_c k'_p) of a 0/1 matrix with no empty row or column."""
    k_c = M.sum(axis=1)
    k_p = M.T @ (1.0 / k_c)
    return M / k_c[:, None] / k_p[None, :]


def genepy_from_weights(W: np.ndarray) -> np.ndarray:
    """Unscaled GENEPY of the rows of W, from the two eigenpairs of W W^T (zero diagonal) whose
    eigenvalues are largest in absolute value (exact ties: the positive one first)."""
    N = W @ W.T
    np.fill_diagonal(N, 0.0)
    if N.shape[0] < 2:
        return np.full(N.shape[0], np.nan)
    eigenvalues, vectors = np.linalg.eigh(N)  # N is symmetric: real, orthonormal
    order = np.lexsort((-eigenvalues, -np.abs(eigenvalues)))[:2]
    lam, X2 = eigenvalues[order], vectors[:, order] ** 2
    return (X2 @ lam) ** 2 + 2.0 * (X2 @ lam**2)


def _active_genepy(M: np.ndarray):
    ac, ap, sub = active_submatrix(M)
    if not sub.size:
        return ac, ap, np.empty(0), np.empty(0)
    W = genepy_weights(sub)
    return ac, ap, genepy_from_weights(W), genepy_from_weights(W.T)


def genepy_index(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unscaled country and product GENEPY of a 0/1 matrix (non-zero entries count as 1); NaN
    for countries / products with no M_cp = 1."""
    ac, ap, country, product = _active_genepy(M)
    return expand(country, ac), expand(product, ap)


def genepy_matrix(M: np.ndarray) -> FitnessResult:
    """Country and product GENEPY of a 0/1 matrix, each divided by its mean over the active
    entries; NaN where inactive. Closed form: 0 iterations, final change NaN."""
    ac, ap, country, product = _active_genepy(M)
    if not country.size:
        return FitnessResult(expand(country, ac), expand(product, ap), 0, np.nan)
    return FitnessResult(
        expand(country / np.mean(country), ac), expand(product / np.mean(product), ap), 0, np.nan
    )
