"""Non-homogeneous Fitness and Complexity (Servedio, Buttà, Mazzilli, Tacchella, Pietronero 2018,
"A New and Stable Estimation Method of Country Economic Fitness and Product Complexity",
Entropy 20(10), 783; ``fitness.method = "nhefc"``).

The paper replaces Tacchella's normalised map by a map with non-homogeneous terms, written with
the product "simplicity" P_p (the inverse of a complexity):

    F_c = delta^2 + sum_p M_cp / P_p
    P_p = 1       + sum_c M_cp / F_c

iterated from F = P = 1, both updates from the previous iterate. WHY: for delta > 0 this map
has a unique positive fixed point and converges to it (the paper proves local convergence), so
the result no longer depends on when one stops, unlike Tacchella's map, whose fitness outside
the nested core decays towards 0 for ever. The paper lets delta go to 0 after a rescaling; on
trade matrices (more products than countries) F and P are then O(1) and practically
independent of delta,
so a small delta (``fitness.nhefc_delta``, default 1e-3) stands for the limit (delta = 1e-5
gives the same ranks and values within 1e-4 on the R package's data, tests/measures/test_nhefc.py).

Reported, on Tacchella's scale so that the tables read alike:

    fitness_c    = F_c / mean(F)
    complexity_p = Q_p / mean(Q),  Q_p = 1 / (P_p - 1) = 1 / sum_c M_cp / F_c

(Q_p is Tacchella's complexity update evaluated at the new fitness.) Stopping: after the first
step whose max |change| of F and P, relative to their values (log scale), is below
``tolerance``, or after ``max_iterations`` steps; both are recorded in fitness_convergence.

Pure numpy: must not know about Spark, tables or the config.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lib.measures.fitness import FitnessResult
from lib.measures.matrix import active_submatrix, expand


@dataclass(frozen=True)
class FixedPoint:
    """The raw iterate (F, P) of the active submatrix and how the iteration stopped."""

    F: np.ndarray
    P: np.ndarray
    iterations: int
    final_change: float


def nhefc_fixed_point(
    M: np.ndarray, delta: float, max_iterations: int, tolerance: float
) -> FixedPoint:
    """Iterate the non-homogeneous map on a 0/1 matrix without empty rows or columns."""
    if delta <= 0:
        raise ValueError(f"delta must be positive, got {delta}")
    M = np.asarray(M, dtype=np.float64)
    F, P = np.ones(M.shape[0]), np.ones(M.shape[1])
    change, steps = np.nan, 0
    while steps < max_iterations:
        steps += 1
        F_new = delta**2 + M @ (1.0 / P)
        P_new = 1.0 + M.T @ (1.0 / F)
        change = float(max(np.abs(np.log(F_new / F)).max(), np.abs(np.log(P_new / P)).max()))
        F, P = F_new, P_new
        if tolerance > 0 and change < tolerance:
            break
    return FixedPoint(F, P, steps, change)


def nhefc_matrix(
    M: np.ndarray, delta: float, max_iterations: int, tolerance: float
) -> FitnessResult:
    """Fitness and complexity (each mean 1) of a 0/1 matrix (countries x products); NaN on
    countries / products without any 1 (they take no part)."""
    ac, ap, sub = active_submatrix(M)
    if not sub.size:
        return FitnessResult(np.full(ac.size, np.nan), np.full(ap.size, np.nan), 0, np.nan)
    fp = nhefc_fixed_point(sub, delta, max_iterations, tolerance)
    Q = 1.0 / (sub.T @ (1.0 / fp.F))
    return FitnessResult(
        expand(fp.F / fp.F.mean(), ac),
        expand(Q / Q.mean(), ap),
        fp.iterations,
        fp.final_change,
    )
