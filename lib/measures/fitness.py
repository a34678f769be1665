"""Fitness and Complexity (Tacchella, Cristelli, Caldarelli, Gabrielli, Pietronero 2012).

Starting from F_c = Q_p = 1, each step uses the *previous* iterate for both updates:

    F~_c = sum_p M_cp Q_p                 F_c = F~_c / mean_c(F~)
    Q~_p = 1 / sum_c (M_cp / F_c)         Q_p = Q~_p / mean_p(Q~)

(means over active countries / products). ``max_iterations`` = N means N updates, so the R
package ``economiccomplexity``'s "20 iterations" is N = 19. With ``tolerance`` > 0 the iteration
stops after the first step whose change max(max|F_t - F_{t-1}|, max|Q_t - Q_{t-1}|) is below it;
0 runs all N steps. WHY record steps and change: the map has no non-zero fixed point on realistic
matrices (fitness outside the nested core decays towards 0, 1e-40 after 200 steps), so the result
depends on the stopping rule, which therefore goes into the convergence table. If an update would
underflow (a fitness reaching 0 or a non-finite value) the iteration stops at the last finite
iterate.

Runs inside the yearly task of ``lib.measures.yearly`` (one year's M, at most ~250 x 5,000, is a few
MB): two BLAS matrix-vector products a step.

Pure numpy: must not know about Spark, tables or the config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lib.measures.matrix import active_submatrix, expand
from lib.tables import spark_schema

CONVERGENCE_SCHEMA = spark_schema("fitness_convergence")


@dataclass(frozen=True)
class FitnessResult:
    """Full-length vectors (NaN on inactive countries / products) and the stopping record."""

    fitness: np.ndarray
    complexity: np.ndarray
    iterations: int  # updates performed
    final_change: float  # change of the last update (NaN if none)


def fitness_complexity_matrix(
    M: np.ndarray, max_iterations: int, tolerance: float = 0.0
) -> FitnessResult:
    """Fitness and Complexity of one 0/1 matrix (countries x products); non-zero entries count
    as 1. Inactive rows / columns (all zero) get NaN and do not take part in the means."""
    ac, ap, sub = active_submatrix(M)

    def products(F_vec: np.ndarray, Q_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return sub @ Q_vec, sub.T @ (1.0 / F_vec)

    F_vec, Q_vec, iterations, change = iterate_fitness(
        products, sub.shape, max_iterations, tolerance
    )
    return FitnessResult(expand(F_vec, ac), expand(Q_vec, ap), iterations, change)


MatrixProducts = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def iterate_fitness(
    products: MatrixProducts, shape: tuple[int, int], max_iterations: int, tolerance: float
) -> tuple[np.ndarray, np.ndarray, int, float]:
    """The Fitness-Complexity map from F = Q = 1 on an all-active matrix of ``shape``:
    ``products(F, Q)`` returns F~ = M Q and s = M^T (1 / F). Returns F, Q, the updates made and
    the last change; an update with a zero or non-finite entry is not taken (the iteration
    stops at the last finite iterate)."""
    F_vec, Q_vec = np.ones(shape[0]), np.ones(shape[1])
    iterations, final_change = 0, np.nan
    if not (shape[0] and shape[1]):
        return F_vec, Q_vec, iterations, final_change
    for step in range(1, max_iterations + 1):
        F_new, Q_new = normalised_update(*products(F_vec, Q_vec))
        if not (usable(F_new) and usable(Q_new)):
            break  # underflow: keep the last finite iterate
        change = max(np.max(np.abs(F_new - F_vec)), np.max(np.abs(Q_new - Q_vec)))
        F_vec, Q_vec, iterations, final_change = F_new, Q_new, step, float(change)
        if tolerance > 0 and change < tolerance:
            break
    return F_vec, Q_vec, iterations, final_change


def normalised_update(f_tilde: np.ndarray, col_sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F = F~ / mean(F~); Q~ = 1 / s; Q = Q~ / mean(Q~)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        F_new = f_tilde / f_tilde.mean()
        q_tilde = 1.0 / col_sums
        Q_new = q_tilde / q_tilde.mean()
    return F_new, Q_new


def usable(values: np.ndarray) -> bool:
    """All finite and > 0 (NaN fails both comparisons)."""
    return bool(values.min() > 0 and values.max() < np.inf)
