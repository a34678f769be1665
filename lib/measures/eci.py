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
(real, orthonormal eigenvectors) takes milliseconds, and e = D^-1/2 v. No P x P eigenproblem
is ever formed (py-ecomplexity's dense 5,000 x 5,000 ``eig`` costs about a minute a year).

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
    A = sub / np.sqrt(d)[:, None] / np.sqrt(u)[None, :]
    eigenvalues, vectors = np.linalg.eigh(A @ A.T)  # ascending
    lambda2 = float(eigenvalues[-2])
    if lambda2 < MIN_EIGENVALUE:
        return empty
    e = vectors[:, -2] / np.sqrt(d)
    e = e * _sign(e, d)
    kp = (sub.T @ e) / u / lambda2

    if normalization == ATLAS:
        mean = e.mean()
        sd = np.sqrt(P * np.sum((e - mean) ** 2) / (C * P - 1))
        eci, pci = (e - mean) / sd, (kp - mean) / sd
    else:
        eci = (e - e.mean()) / e.std(ddof=1)
        pci = (kp - kp.mean()) / kp.std(ddof=1) if P > 1 else np.full(P, np.nan)
    mean_pci = (sub @ pci) / d
    return EciResult(expand(eci, ac), expand(pci, ap), expand(mean_pci, ac), lambda2)


def _sign(e: np.ndarray, d: np.ndarray) -> float:
    """+1 or -1 so that corr(sign * e, diversity) > 0.

    WHY the fallback: with equal diversities the correlation is undefined; then the sign puts the
    largest-magnitude entry positive, which is arbitrary but deterministic.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(e, d)[0, 1] if d.std() > 0 else np.nan
    if np.isfinite(corr) and corr != 0:
        return 1.0 if corr > 0 else -1.0
    return 1.0 if e[np.argmax(np.abs(e))] > 0 else -1.0
