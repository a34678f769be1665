"""Independent sparse references: Balassa RCA, M and Fitness-Complexity with scipy.sparse.

Written from the papers' formulas, not from ``lib.measures`` (no import of it), so that the
job's outputs on a place x activity table, in-task today and distributed later, are checked
against a second implementation that never forms a dense place x activity matrix:

- RCA (Balassa 1965): ``RCA_pa = (X_pa / X_p) / (X_a / X)`` with ``X_p = sum_a X_pa``,
  ``X_a = sum_p X_pa``, ``X = sum X_pa``, over the cells kept by the size rules (a place whose
  total is below ``min_place_value``, an activity whose world total is below
  ``min_activity_value``, both totals over every place, drop out); ``M_pa = 1`` if ``RCA_pa >=
  threshold`` (``>`` if ``strict``), the config's ``rca.threshold`` / ``rca.strict``.
- Fitness-Complexity (Tacchella, Cristelli, Caldarelli, Gabrielli, Pietronero 2012, eq. 1):
  from ``F = Q = 1``, ``F~_p = sum_a M_pa Q_a``, ``Q~_a = 1 / sum_p M_pa / F_p`` (both from the
  previous iterate), each normalised by its mean over the places / activities with an entry of
  M. The project's stopping rule (docs/configuration.md, ``fitness``): at most
  ``max_iterations`` updates, stop after the first whose change ``max(max|dF|, max|dQ|)`` is
  below ``tolerance`` (if > 0), and an update with a zero or non-finite entry is not taken.

Sparse matrices are CSR, rows = places, columns = activities, in the order of the codes given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True)
class SparseYear:
    """One year's values as a CSR matrix and the codes of its rows and columns."""

    places: np.ndarray
    activities: np.ndarray
    X: sp.csr_matrix


def sparse_year(rows: pd.DataFrame) -> SparseYear:
    """``place, activity, value`` rows (one per pair) as a sparse matrix; places and
    activities sorted by code."""
    places, p = np.unique(rows["place"].to_numpy(), return_inverse=True)
    activities, a = np.unique(rows["activity"].to_numpy(), return_inverse=True)
    value = rows["value"].to_numpy(np.float64)
    X = sp.csr_matrix((value, (p, a)), shape=(len(places), len(activities)))
    X.eliminate_zeros()
    return SparseYear(places, activities, X)


@dataclass(frozen=True)
class SparseRca:
    rca: sp.csr_matrix  # on the kept cells (implicit 0 elsewhere)
    M: sp.csr_matrix  # 0/1
    kept_places: np.ndarray  # bool per row: passes the size rule
    kept_activities: np.ndarray  # bool per column


def balassa(
    X: sp.csr_matrix,
    threshold: float = 1.0,
    strict: bool = False,
    min_place_value: float = 0.0,
    min_activity_value: float = 0.0,
) -> SparseRca:
    """RCA and M of the cells kept by the size rules (see the module doc)."""
    place_total = np.asarray(X.sum(axis=1)).ravel()
    activity_total = np.asarray(X.sum(axis=0)).ravel()
    kept_places = (place_total > 0) & (place_total >= min_place_value)
    kept_activities = (activity_total > 0) & (activity_total >= min_activity_value)
    K = sp.diags(kept_places.astype(float)) @ X @ sp.diags(kept_activities.astype(float))
    K = sp.csr_matrix(K)
    K.eliminate_zeros()
    x_p = np.asarray(K.sum(axis=1)).ravel()
    x_a = np.asarray(K.sum(axis=0)).ravel()
    total = K.sum()
    coo = K.tocoo()
    rca_values = (coo.data / x_p[coo.row]) / (x_a[coo.col] / total)
    rca = sp.csr_matrix((rca_values, (coo.row, coo.col)), shape=K.shape)
    present = rca_values > threshold if strict else rca_values >= threshold
    M = sp.csr_matrix(
        (np.ones(int(present.sum())), (coo.row[present], coo.col[present])), shape=K.shape
    )
    return SparseRca(rca, M, kept_places, kept_activities)


@dataclass(frozen=True)
class SparseFitness:
    fitness: np.ndarray  # per row, NaN where the place has no entry of M
    complexity: np.ndarray  # per column, NaN where the activity has none
    iterations: int
    final_change: float


def fitness_complexity(
    M: sp.csr_matrix, max_iterations: int, tolerance: float = 0.0
) -> SparseFitness:
    """Tacchella et al.'s iteration on the rows and columns of M with an entry."""
    rows = np.flatnonzero(np.diff(M.indptr) > 0)
    cols = np.flatnonzero(np.asarray((M != 0).sum(axis=0)).ravel() > 0)
    A = sp.csr_matrix(M[rows][:, cols] != 0, dtype=np.float64)
    At = sp.csr_matrix(A.T)
    F, Q = np.ones(A.shape[0]), np.ones(A.shape[1])
    iterations, final_change = 0, float("nan")
    for step in range(1, max_iterations + 1 if A.nnz else 1):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            f = A @ Q
            q = 1.0 / (At @ (1.0 / F))
            F_new, Q_new = f / f.mean(), q / q.mean()
        finite = all(v.min() > 0 and np.isfinite(v).all() for v in (F_new, Q_new))
        if not finite:
            break
        change = float(max(np.abs(F_new - F).max(), np.abs(Q_new - Q).max()))
        F, Q, iterations, final_change = F_new, Q_new, step, change
        if tolerance > 0 and change < tolerance:
            break
    fitness = np.full(M.shape[0], np.nan)
    complexity = np.full(M.shape[1], np.nan)
    fitness[rows], complexity[cols] = F, Q
    return SparseFitness(fitness, complexity, iterations, final_change)


def long_form(matrix: sp.csr_matrix, year: SparseYear, name: str) -> pd.DataFrame:
    """The nonzero cells as ``place, activity, <name>`` rows."""
    coo = matrix.tocoo()
    return pd.DataFrame(
        {
            "place": year.places[coo.row],
            "activity": year.activities[coo.col],
            name: coo.data,
        }
    )


# --- comparing a job's tables with the references (any size: nothing dense is formed) -------


def relative_difference(got, expected) -> float:
    """Largest relative difference; NaN where the reference is NaN and exact equality where
    it is 0 are required (AssertionError otherwise)."""
    got, expected = np.asarray(got, float), np.asarray(expected, float)
    assert np.array_equal(np.isnan(got), np.isnan(expected)), "NaN in different places"
    ok = ~np.isnan(expected)
    zero = ok & (expected == 0)
    assert np.array_equal(got[zero], expected[zero]), "a zero of the reference is not 0"
    nonzero = ok & (expected != 0)
    if not nonzero.any():
        return 0.0
    return float(np.max(np.abs(got[nonzero] - expected[nonzero]) / np.abs(expected[nonzero])))


def rca_difference(grid: pd.DataFrame, year: SparseYear, expected: SparseRca) -> float:
    """A year's ``place_activity_year`` rows (place, activity, export_value, rca, mcp) against
    the reference: the rows with a value are exactly the reference's kept cells, with M equal
    and RCA compared (returned: the largest relative difference); rows without a value (the
    job may write every pair, or fewer) have RCA and M 0."""
    with_value = grid[grid["export_value"] > 0]
    empty = grid[grid["export_value"] == 0]
    assert (empty["rca"] == 0).all() and (empty["mcp"] == 0).all()
    cells = long_form(expected.rca, year, "rca_ref").merge(
        long_form(expected.M, year, "m_ref"), on=["place", "activity"], how="left"
    )
    mine = with_value.merge(cells, on=["place", "activity"], how="outer", indicator=True)
    assert (mine["_merge"] == "both").all(), "cells written and cells of the reference differ"
    assert np.array_equal(mine["mcp"].to_numpy(), mine["m_ref"].fillna(0).to_numpy(int))
    return relative_difference(mine["rca"], mine["rca_ref"])


def fitness_difference(
    place_year: pd.DataFrame, activity_year: pd.DataFrame, year: SparseYear, expected: SparseFitness
) -> tuple[float, float]:
    """A year's ``place_year`` fitness and ``activity_year`` complexity against the reference
    (every place and activity of the year must be there): the largest relative differences."""
    fitness = place_year.set_index("place").loc[year.places, "fitness"]
    complexity = activity_year.set_index("activity").loc[year.activities, "complexity"]
    return (
        relative_difference(fitness, expected.fitness),
        relative_difference(complexity, expected.complexity),
    )
