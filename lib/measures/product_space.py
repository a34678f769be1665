"""The product space: proximity, density, complexity outlook (COI) and outlook gain (COG).

Per year, on the active submatrix (countries with d_c > 0, products with u_p > 0), following Stata
``ecomplexity`` (the Atlas reference; ``proxdiscrete.ado``, ``calculate_density.ado``,
``coicog.ado``):

    C_pp'       = sum_c M_cp M_cp'                       (co-occurrence; C_pp = u_p)
    phi_pp'     = C_pp' / max(u_p, u_p') = min(P(p|p'), P(p'|p)),   phi_pp = 0
    density_cp  = sum_p' M_cp' phi_p'p / sum_p' phi_p'p
    COI_c       = sum_p (1 - M_cp) density_cp kp_p
    COG_cp      = (1 - M_cp) sum_p' (1 - M_cp') phi_p'p kp_p' / sum_p'' phi_p'p''

``kp`` is the raw PCI eigenvector of Stata (before normalisation). We take PCI from
``lib.measures.eci`` and re-centre it at its ubiquity-weighted mean: kp = PCI - sum_p u_p PCI_p / sum_p u_p.
WHY this recovers Stata exactly: diversity is the left Perron vector of Mcc, so the ECI
eigenvector satisfies sum_c d_c e_c = 0, hence sum_p u_p kp_p = 0; and Stata's PCI is
(kp - mean(e)) / sd(e). So the re-centred atlas PCI is kp / sd(e): COG comes out "divided by the
sd of ECI" as in Stata, and COI (z-scored afterwards) is unaffected by the scale. Under
``zscore`` normalisation the same rule gives kp / sd(kp), i.e. COG in PCI units.

COI is then z-scored like ECI: ``atlas`` with the sample sd over the C x P long rows (Stata),
``zscore`` with the sample sd over countries. (py-ecomplexity uses the population sd over
countries for both COI and the COG divisor, and diagonal 1: with ``proximity_diagonal = 1`` its
density is ours and its COI and COG are ours times sqrt(CP / (CP - 1)).)

``ProductSpaceConfig.proximity_diagonal`` sets phi_pp inside density and COG: 0 as Stata / the
Atlas (default), 1 as py-ecomplexity and the R package. The proximity table never holds the
diagonal.

A product whose proximity to every other product is 0 (all its exporters export nothing else)
has undefined density (NULL); it adds nothing to COI and COG. Products without a PCI (outside
ECI's connected component, see ``lib.measures.eci``) add nothing to COI and COG and get NULL COG; countries
exporting such products get NULL COI and COG; COI is standardised over the remaining countries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lib.measures.matrix import active_masks, expand, expand_matrix
from lib.tables import spark_schema

ATLAS = "atlas"
ZSCORE = "zscore"
ROW_CHUNK = 512  # proximity rows scanned at a time when listing pairs (bounds index memory)

PROXIMITY_SCHEMA = spark_schema("product_proximity")


# --- numpy cores ---------------------------------------------------------------------------


def proximity_matrix(M: np.ndarray) -> np.ndarray:
    """phi (P x P): C_pp' / max(u_p, u_p'), diagonal 0, rows / columns of inactive products 0."""
    M = np.asarray(M, dtype=np.float64)
    phi = M.T @ M  # co-occurrence, divided in place below (P x P can be 5,000 x 5,000)
    u = np.diag(phi).copy()
    denominator = np.maximum.outer(u, u)
    # Where max(u_p, u_p') = 0 both products are inactive and C_pp' is already 0.
    np.divide(phi, denominator, out=phi, where=denominator > 0)
    del denominator
    np.fill_diagonal(phi, 0.0)
    return phi


def proximity_pair_blocks(
    phi: np.ndarray, min_proximity: float = 0.0, upper_only: bool = True, rows: int = ROW_CHUNK
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Index pairs (a, b) with phi_ab > 0 and phi_ab >= min_proximity, and their values, for
    ``rows`` consecutive values of a at a time (ordered by a, then b). ``upper_only``: each
    pair once (a < b); else both orders (the diagonal is 0, so never listed)."""
    n = phi.shape[0]
    for start in range(0, n, rows):
        block = phi[start : start + rows]
        keep = (block > 0) & (block >= min_proximity)
        if upper_only:  # column index > row index
            keep &= np.arange(n)[None, :] > np.arange(start, start + block.shape[0])[:, None]
        a, b = np.nonzero(keep)
        if a.size:
            yield a + start, b, block[a, b]


def proximity_pairs(
    phi: np.ndarray, min_proximity: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (a < b) with phi_ab > 0 and phi_ab >= min_proximity, and their values."""
    blocks = list(proximity_pair_blocks(phi, min_proximity))
    if not blocks:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    a, b, values = zip(*blocks, strict=True)
    return np.concatenate(a), np.concatenate(b), np.concatenate(values)


@dataclass(frozen=True)
class OutlookResult:
    """density and cog (countries x products) and coi (countries); NaN where undefined.
    ``proximity``: phi of the active products (``active_products``, a mask over M's columns),
    diagonal 0, kept for the proximity table (a 5,000 x 5,000 product is not made twice)."""

    density: np.ndarray
    cog: np.ndarray
    coi: np.ndarray
    proximity: np.ndarray
    active_products: np.ndarray


def density_and_outlook_matrix(
    M: np.ndarray,
    pci: np.ndarray,
    proximity_diagonal: float = 0.0,
    normalization: str = ATLAS,
) -> OutlookResult:
    """Density, COG and COI of one 0/1 matrix given the PCI of its products (see module doc).

    ``pci`` has one entry per column of M; entries of inactive products are ignored.
    """
    if normalization not in (ATLAS, ZSCORE):
        raise ValueError(f"normalization must be '{ATLAS}' or '{ZSCORE}', got {normalization!r}")
    M = np.asarray(M, dtype=np.float64)
    ac, ap = active_masks(M)
    sub = M[np.ix_(ac, ap)]
    C, P = sub.shape
    if C == 0:
        n_c, n_p = M.shape
        nan_grid = np.full((n_c, n_p), np.nan)
        return OutlookResult(nan_grid, nan_grid.copy(), np.full(n_c, np.nan), np.zeros((0, 0)), ap)

    phi = proximity_matrix(sub)
    phi[np.diag_indices(P)] = proximity_diagonal
    totals = phi.sum(axis=0)  # = row sums, phi is symmetric
    has_neighbours = totals > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(has_neighbours[None, :], (sub @ phi) / totals[None, :], np.nan)

    # Products with a PCI (ECI's connected component) and the countries that only export those.
    pci_active = np.asarray(pci, dtype=np.float64)[ap]
    known = np.isfinite(pci_active)
    rated = sub[:, ~known].sum(axis=1) == 0
    cog = np.full((C, P), np.nan)
    coi = np.full(C, np.nan)
    if known.any() and rated.any():
        u = sub.sum(axis=0)
        centre = (u[known] @ pci_active[known]) / u[known].sum()
        kp = np.where(known, pci_active - centre, 0.0)  # re-centred: sum_p u_p kp_p = 0
        missing = 1.0 - sub

        coi_raw = (np.where(has_neighbours[None, :], density, 0.0) * missing) @ kp
        with np.errstate(divide="ignore", invalid="ignore"):
            weight = np.where(has_neighbours, kp / totals, 0.0)
        cog_all = missing * ((missing * weight[None, :]) @ phi)
        cog[np.ix_(rated, known)] = cog_all[np.ix_(rated, known)]
        coi[rated] = _standardise(coi_raw[rated], int(known.sum()), normalization)
    phi[np.diag_indices(P)] = 0.0  # the proximity table never holds the diagonal
    return OutlookResult(
        expand_matrix(density, ac, ap), expand_matrix(cog, ac, ap), expand(coi, ac), phi, ap
    )


def _standardise(values: np.ndarray, n_products: int, normalization: str) -> np.ndarray:
    """z-score: atlas = sample sd over the C x P long rows (Stata), zscore = over countries."""
    n = values.size
    mean = values.mean()
    if normalization == ATLAS:
        rows = n * n_products
        sd = np.sqrt(n_products * np.sum((values - mean) ** 2) / (rows - 1)) if rows > 1 else np.nan
    else:
        sd = values.std(ddof=1) if n > 1 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return (values - mean) / sd
