"""The Bipartite Configuration Model (BiCM) of a 0/1 matrix and its validated projection.

The BiCM (Saracco et al. 2015) is the maximum-entropy ensemble of bipartite networks whose
expected degrees are the observed ones: p_cp = x_c y_p / (1 + x_c y_p), with the fitnesses
x (rows) and y (columns) solving

    sum_p p_cp = d_c (row degrees),     sum_c p_cp = u_p (column degrees).

The validated projection on the columns (Saracco et al. 2017; the ``bicm`` package's
``compute_projection``): the co-occurrence V_pq = sum_c M_cp M_cq of two columns is compared
with its distribution under the BiCM, a sum of independent Bernoullis of probabilities
p_cp p_cq (Poisson-binomial). As ``bicm`` 3.4.0 does by default (``approx_method='poisson'``),
the p-value P(V >= V_pq) uses the Poisson approximation of mean mu_pq = sum_c p_cp p_cq:
p = Poisson.sf(V_pq - 1, mu_pq). Only the pairs with V_pq >= 1 are tested (an unobserved pair
is never a link), and the number of tests is every pair of columns, n (n - 1) / 2, as in
``bicm``. A pair is a link when its p-value is at most the threshold of ``validation``:

- ``fdr``: Benjamini-Hochberg at level alpha: the largest i with p_(i) <= i alpha / T over the
  sorted p-values, threshold i alpha / T (alpha / T when there is none, ``bicm``'s rule);
- ``bonferroni``: alpha / T.

Solver: the equations depend on a row (column) only through its degree, so they are solved
per distinct degree, weighted by multiplicity (as ``bicm``'s degree reduction): a few
fixed-point sweeps from the Chung-Lu guess x = d / sqrt(E), y = u / sqrt(E), then Newton in
log-fitnesses (least-squares steps: the system has one scale freedom, x c and y / c) until the
largest degree error is below ``tolerance``. Empty rows / columns (degree 0) get fitness 0 and
full ones (degree = the other side's size) fitness inf, p = 0 or 1 there; they are removed
repeatedly before solving the rest, whose degrees they no longer count. (``bicm``'s full mode
removes them the same way but then leaves their fitness and probabilities at 0, which makes a
full column co-occur "significantly" with everything; with an RCA-based M no row or column is
full, and the tests compare on such matrices.)

Must not: know of Spark, of years, of products' codes or of how the matrix was made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import pdtrc

FDR = "fdr"
BONFERRONI = "bonferroni"
VALIDATIONS = (FDR, BONFERRONI)
ROW_CHUNK = 512  # columns of the projection whose expected co-occurrences are held at once


@dataclass(frozen=True)
class BicmFit:
    """Fitnesses of the rows (``x``) and columns (``y``), the probability matrix ``p`` (rows x
    columns), the largest |expected - observed| degree and the Newton steps taken."""

    x: np.ndarray
    y: np.ndarray
    p: np.ndarray
    error: float
    steps: int


def _fixed_nodes(M: np.ndarray):
    """Repeatedly remove empty and full rows / columns. Returns the probabilities they fix
    (NaN where not fixed), the masks of the rows and columns left to solve and the masks of
    the full rows and columns (fitness inf)."""
    n_r, n_c = M.shape
    rows, cols = np.ones(n_r, bool), np.ones(n_c, bool)
    full_rows, full_cols = np.zeros(n_r, bool), np.zeros(n_c, bool)
    fixed = np.full((n_r, n_c), np.nan)
    while True:
        ri, ci = np.flatnonzero(rows), np.flatnonzero(cols)
        sub = M[np.ix_(ri, ci)]
        d, u = sub.sum(axis=1), sub.sum(axis=0)
        r_empty, r_full = d == 0, d == ci.size
        c_empty, c_full = u == 0, u == ri.size
        if not (r_empty.any() or r_full.any() or c_empty.any() or c_full.any()):
            return fixed, rows, cols, full_rows, full_cols
        # Consistent: a full row meets no empty column, a full column no empty row.
        fixed[np.ix_(ri[r_empty | r_full], ci)] = r_full[r_empty | r_full][:, None]
        fixed[np.ix_(ri, ci[c_empty | c_full])] = c_full[c_empty | c_full][None, :]
        full_rows[ri[r_full]] = True
        full_cols[ci[c_full]] = True
        rows[ri[r_empty | r_full]] = False
        cols[ci[c_empty | c_full]] = False


def _solve_classes(
    d: np.ndarray, m: np.ndarray, u: np.ndarray, n: np.ndarray, tolerance: float, max_steps: int
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Fitnesses of the distinct row degrees ``d`` (multiplicities ``m``) and column degrees
    ``u`` (multiplicities ``n``) of a matrix without empty or full rows / columns."""
    edges = float(d @ m)
    x, y = d / np.sqrt(edges), u / np.sqrt(edges)
    for _ in range(20):  # fixed-point sweeps: a start Newton converges from
        x = d / ((n * y)[None, :] / (1.0 + x[:, None] * y[None, :])).sum(axis=1)
        y = u / ((m * x)[:, None] / (1.0 + x[:, None] * y[None, :])).sum(axis=0)
    theta = np.concatenate([np.log(x), np.log(y)])
    k = d.size

    def residuals(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xy = np.exp(theta[:k, None] + theta[None, k:])
        p = xy / (1.0 + xy)
        res = np.concatenate([(p * n[None, :]).sum(axis=1) - d, (p * m[:, None]).sum(axis=0) - u])
        return res, p

    res, p = residuals(theta)
    steps = 0
    while np.max(np.abs(res)) > tolerance and steps < max_steps:
        w = p * (1.0 - p)  # d p / d theta_x = d p / d theta_y
        J = np.zeros((k + u.size, k + u.size))
        J[:k, :k] = np.diag((w * n[None, :]).sum(axis=1))
        J[:k, k:] = w * n[None, :]
        J[k:, :k] = (w * m[:, None]).T
        J[k:, k:] = np.diag((w * m[:, None]).sum(axis=0))
        step = np.linalg.lstsq(J, -res, rcond=None)[0]
        size, best = 1.0, np.max(np.abs(res))
        while True:  # halve the step until the largest error falls
            new_res, new_p = residuals(theta + size * step)
            if np.max(np.abs(new_res)) < best or size < 1e-6:
                break
            size /= 2
        theta, res, p = theta + size * step, new_res, new_p
        steps += 1
    return np.exp(theta[:k]), np.exp(theta[k:]), float(np.max(np.abs(res))), steps


def bicm_fit(M: np.ndarray, tolerance: float = 1e-10, max_steps: int = 100) -> BicmFit:
    """The BiCM of a 0/1 matrix (see the module docstring)."""
    M = np.asarray(M, dtype=np.float64)
    fixed, rows, cols, full_rows, full_cols = _fixed_nodes(M)
    x, y = np.where(full_rows, np.inf, 0.0), np.where(full_cols, np.inf, 0.0)
    p = np.nan_to_num(fixed, nan=0.0)
    error, steps = 0.0, 0
    if rows.any() and cols.any():
        sub = M[np.ix_(rows, cols)]
        d, row_class, m = np.unique(sub.sum(axis=1), return_inverse=True, return_counts=True)
        u, col_class, n = np.unique(sub.sum(axis=0), return_inverse=True, return_counts=True)
        xc, yc, error, steps = _solve_classes(d, m, u, n, tolerance, max_steps)
        x[rows], y[cols] = xc[row_class], yc[col_class]
        xy = x[rows][:, None] * y[cols][None, :]
        p[np.ix_(rows, cols)] = xy / (1.0 + xy)
    return BicmFit(x, y, p, error, steps)


@dataclass(frozen=True)
class ValidatedProjection:
    """The tested column pairs (a < b, V_ab >= 1, in (a, b) order): co-occurrence, expected
    co-occurrence mu, p-value and whether validated (a link); the validation's threshold."""

    a: np.ndarray
    b: np.ndarray
    cooccurrence: np.ndarray
    expected: np.ndarray
    p_value: np.ndarray
    link: np.ndarray
    threshold: float
    n_columns: int

    def adjacency(self) -> np.ndarray:
        """The 0/1 symmetric matrix of the links (columns x columns), diagonal 0."""
        B = np.zeros((self.n_columns, self.n_columns))
        a, b = self.a[self.link], self.b[self.link]
        B[a, b] = B[b, a] = 1.0
        return B


def validation_threshold(p_values: np.ndarray, alpha: float, tests: float, method: str) -> float:
    """The largest p-value validated (see the module docstring; ``bicm``'s
    ``_pvals_validator``)."""
    if method not in VALIDATIONS:
        raise ValueError(f"validation must be one of {', '.join(VALIDATIONS)}: {method!r}")
    step = alpha / tests
    if method == BONFERRONI:
        return step
    ordered = np.sort(p_values)
    below = np.flatnonzero(ordered <= np.arange(1, ordered.size + 1) * step)
    return (below[-1] + 1) * step if below.size else step


def validated_projection(
    M: np.ndarray, alpha: float = 0.05, validation: str = FDR, fit: BicmFit | None = None
) -> ValidatedProjection:
    """The BiCM-validated projection of M on its columns (see the module docstring)."""
    M = np.asarray(M, dtype=np.float64)
    fit = fit if fit is not None else bicm_fit(M)
    n = M.shape[1]
    parts = [(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.empty(0))]
    for start in range(0, n, ROW_CHUNK):  # column blocks: no n x n array of expectations
        V = M[:, start : start + ROW_CHUNK].T @ M
        mu = fit.p[:, start : start + ROW_CHUNK].T @ fit.p
        a, b = np.nonzero(
            (V > 0) & (np.arange(n)[None, :] > np.arange(start, start + len(V))[:, None])
        )
        parts.append((a + start, b, V[a, b], mu[a, b]))
    a, b, V, mu = (np.concatenate([part[i] for part in parts]) for i in range(4))
    p_value = pdtrc(V - 1, mu)  # = scipy.stats.poisson.sf(V - 1, mu), bicm's formula
    tests = n * (n - 1) / 2
    threshold = validation_threshold(p_value, alpha, tests, validation) if tests else 0.0
    link = p_value <= threshold
    return ValidatedProjection(a, b, V.astype(np.int64), mu, p_value, link, threshold, n)
