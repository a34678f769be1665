"""Economic Complexity Index (ECI) and Product Complexity Index (PCI), eigenvector method.

As Stata ``ecomplexity`` (the Atlas reference) computes them, per year, on the active submatrix
(countries with diversity d_c > 0, products with ubiquity u_p > 0):

    Mcc = D^-1 M U^-1 M^T                      (C x C, row-stochastic, largest eigenvalue 1)
    e   = eigenvector of Mcc for its 2nd largest eigenvalue lambda2
    kp  = (1 / lambda2) U^-1 M^T e             (the product vector consistent with e:
                                                e_c = mean of kp over c's products)
    sign: corr(e, d) > 0

WHY the symmetric form: Mcc = D^-1/2 S D^1/2 with S = A A^T, A = D^-1/2 M U^-1/2, so S is
symmetric positive semi-definite with the same eigenvalues; ``numpy.linalg.eigh`` on the C x C S
(real, orthonormal eigenvectors) takes milliseconds, and e = D^-1/2 v. The eigenproblem is solved
on the smaller side: C x C when places are fewer (BACI: 230 countries, never the 5,000 x 5,000
product matrix whose dense ``eig`` costs py-ecomplexity about a minute a year), else P x P
(``pci_from_activity_matrix``, as the distributed path: 3,100 counties x 1,000 industries hold a
1,000 x 1,000 matrix, not 3,100 x 3,100). Both give e and kp up to a positive factor, which
every normalisation removes.

Normalisations (``EciConfig.normalization``):

- ``atlas`` (Stata): m = mean(e), s = sample sd of e over the C x P long rows, i.e.
  s = sqrt(P * sum_c (e_c - m)^2 / (C P - 1)); ECI = (e - m) / s and PCI = (kp - m) / s, so PCI
  is on ECI's scale and ECI_c = mean PCI of c's products exactly.
- ``zscore``: ECI and PCI each z-scored with their own sample sd (over countries / products).

``mean_product_complexity`` is the mean PCI of the products a country has (M = 1); under
``atlas`` it equals ECI by construction.

Countries and products outside the largest connected component of the country-product graph
(edges M_cp = 1) get NULL as well. WHY: a second component (say a territory whose only product
no one else has) makes lambda2 = 1, and the "second eigenvector" then merely labels the
components -- the whole year's ECI would be meaningless, as it is in the peer tools.

Degenerate years (fewer than 2 active countries, or lambda2 ~ 0 when every active country has the
same export basket) have no second eigenvector worth the name and get NULL.

Pure numpy: must not know about Spark, tables or the config.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lib.measures.matrix import expand, largest_component

ATLAS = "atlas"
ZSCORE = "zscore"
MIN_EIGENVALUE = 1e-10


@dataclass(frozen=True)
class EciResult:
    """Full-length vectors, NaN on inactive countries / products (and on degenerate years)."""

    eci: np.ndarray
    pci: np.ndarray
    mean_product_complexity: np.ndarray
    eigenvalue: float  # lambda2 (NaN when undefined)


def eci_pci_matrix(M: np.ndarray, normalization: str = ATLAS) -> EciResult:
    """ECI, PCI and mean product complexity of one 0/1 matrix (countries x products).

    Computed on the largest connected component of the active submatrix; NaN elsewhere.
    """
    if normalization not in (ATLAS, ZSCORE):
        raise ValueError(f"normalization must be '{ATLAS}' or '{ZSCORE}', got {normalization!r}")
    M = np.asarray(M, dtype=np.float64)
    ac, ap = largest_component(M)
    n_c, n_p = M.shape
    empty = EciResult(np.full(n_c, np.nan), np.full(n_p, np.nan), np.full(n_c, np.nan), np.nan)
    sub = M[np.ix_(ac, ap)]
    C, P = sub.shape
    if C < 2:
        return empty

    d = sub.sum(axis=1)
    u = sub.sum(axis=0)
    found = _place_side(sub, d, u) if C <= P else _activity_side(sub, d, u)
    if found is None:
        return empty
    e, kp, lambda2 = found
    sign = _sign(e, d)
    e, kp = e * sign, kp * sign

    mean, sd, pci = normalised_scale(normalization, C, P, e.mean(), np.sum((e - e.mean()) ** 2), kp)
    eci = (e - mean) / sd
    mean_pci = (sub @ pci) / d
    return EciResult(expand(eci, ac), expand(pci, ap), expand(mean_pci, ac), lambda2)


def _place_side(
    sub: np.ndarray, d: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(e, kp, lambda2) from the C x C symmetric form S = A A^T (module docstring)."""
    A = sub / np.sqrt(d)[:, None] / np.sqrt(u)[None, :]
    eigenvalues, vectors = np.linalg.eigh(A @ A.T)  # ascending
    lambda2 = float(eigenvalues[-2])
    if lambda2 < MIN_EIGENVALUE:
        return None
    e = vectors[:, -2] / np.sqrt(d)
    return e, (sub.T @ e) / u / lambda2, lambda2


def _activity_side(
    sub: np.ndarray, d: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(e, kp, lambda2) from the P x P side (``pci_from_activity_matrix``, the distributed
    path's kernel with the year as one block), e = D^-1 M kp. WHY: with more places than
    activities (counties x industries) the place x place matrix would be the year's largest."""
    found = pci_from_activity_matrix(weighted_cooccurrence(sub), u)
    if found is None:
        return None
    kp, lambda2 = found
    return (sub @ kp) / d, kp, lambda2


def normalised_scale(
    normalization: str, C: int, P: int, mean_e: float, squares_e: float, kp: np.ndarray
) -> tuple[float, float, np.ndarray]:
    """(mean, sd, PCI) of the normalisation, from the place side's mean and sum of squared
    deviations (so that a distributed path can reduce them): ECI = (e - mean) / sd.

    ``atlas``: sd = sqrt(P * sum (e - m)^2 / (C P - 1)), PCI = (kp - m) / sd; ``zscore``:
    sd = sample sd of e, PCI z-scored on its own (NaN with a single activity)."""
    if normalization == ATLAS:
        sd = np.sqrt(P * squares_e / (C * P - 1))
        return mean_e, sd, (kp - mean_e) / sd
    sd = np.sqrt(squares_e / (C - 1))
    pci = (kp - kp.mean()) / kp.std(ddof=1) if P > 1 else np.full(P, np.nan)
    return mean_e, sd, pci


def weighted_cooccurrence(rows: np.ndarray) -> np.ndarray:
    """M^T D^-1 M of a block of whole places (dense 0/1 rows): the blocks' sum is the
    activity-side matrix of ECI (``pci_from_activity_matrix``)."""
    d = rows.sum(axis=1)
    keep = d > 0
    return rows[keep].T @ (rows[keep] / d[keep, None])


def pci_from_activity_matrix(W: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, float] | None:
    """PCI's raw eigenvector from the activity side only: Mpp = U^-1 M^T D^-1 M = U^-1 W has
    the eigenvalues of Mcc, and its lambda2-eigenvector kp satisfies e = D^-1 M kp (a place's
    ECI is the mean kp of its activities) -- the same e and kp as ``eci_pci_matrix`` up to a
    positive factor, which every normalisation removes (the sign is set from e afterwards).
    Symmetric form: S = U^-1/2 W U^-1/2 (``eigh``), kp = U^-1/2 w. None when lambda2 is
    undefined (fewer than 2 activities) or ~0. WHY: no place x place matrix, for tall years."""
    if W.shape[0] < 2:
        return None
    root = np.sqrt(u)
    eigenvalues, vectors = np.linalg.eigh(W / root[:, None] / root[None, :])
    lambda2 = float(eigenvalues[-2])
    if lambda2 < MIN_EIGENVALUE:
        return None
    return vectors[:, -2] / root, lambda2


def orientation(covariance: float, variance_d: float, largest: float) -> float:
    """+1 or -1 so that corr(sign * e, diversity) > 0 (from the covariance of e and d and the
    variance of d); with equal diversities, the sign of the largest-magnitude e (``largest``)."""
    if variance_d > 0 and np.isfinite(covariance) and covariance != 0:
        return 1.0 if covariance > 0 else -1.0
    return 1.0 if largest > 0 else -1.0


def _sign(e: np.ndarray, d: np.ndarray) -> float:
    """+1 or -1 so that corr(sign * e, diversity) > 0 (``orientation``)."""
    covariance = float(np.mean((e - e.mean()) * (d - d.mean())))
    return orientation(covariance, float(d.var()), float(e[np.argmax(np.abs(e))]))
