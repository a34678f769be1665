"""One year's country x product matrix: long rows <-> dense numpy M, and its active part.

Every indicator (Fitness, ECI/PCI, proximity, density) is a small linear-algebra problem per year:
M is at most ~250 countries x ~5,000 products (HS6), i.e. ~10 MB of float64. So each year is
handled inside one Spark task as a dense numpy matrix (``lib.execution.indicators``), never on the driver.

Rows follow the input contract of the indicators: ``year, country_code, product, mcp`` with one row
per (year, country, product) that has positive exports. Pairs without exports are absent and mean
M_cp = 0. A country whose rows all have mcp = 0 (zero diversity) or a product that no country has
(zero ubiquity) is *inactive*: it stays in the index arrays, so that it is reported (as NULL), but
is left out of every computation. WHY: a zero row or column makes D^-1 or U^-1 undefined; the
peer tools either drop such rows silently or let one of them turn the whole year into NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class YearMatrix:
    """Dense M (countries x products) with the codes of its rows and columns.

    ``countries`` (int64) and ``products`` (str, object array) are sorted ascending, so the layout
    of a year is deterministic whatever the order of the rows.
    """

    countries: np.ndarray
    products: np.ndarray
    M: np.ndarray  # float64, shape (len(countries), len(products))

    @property
    def diversity(self) -> np.ndarray:
        """k_c = sum_p M_cp."""
        return self.M.sum(axis=1)

    @property
    def ubiquity(self) -> np.ndarray:
        """k_p = sum_c M_cp."""
        return self.M.sum(axis=0)

    @property
    def active_countries(self) -> np.ndarray:
        """Boolean mask of countries with diversity > 0."""
        return self.diversity > 0

    @property
    def active_products(self) -> np.ndarray:
        """Boolean mask of products with ubiquity > 0."""
        return self.ubiquity > 0


def active_masks(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(countries with a non-zero row, products with a non-zero column) of a 0/1 matrix."""
    M = np.asarray(M)
    return M.sum(axis=1) > 0, M.sum(axis=0) > 0


def active_submatrix(M: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(active countries, active products, the 0/1 float matrix of those rows and columns):
    what every iterative map (Fitness and its variants) runs on."""
    M = np.asarray(M)
    ac, ap = active_masks(M)
    return ac, ap, (M[np.ix_(ac, ap)] != 0).astype(np.float64)


def largest_component(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the countries and products in the largest connected component of the bipartite
    country-product graph (edges: M_cp = 1); inactive rows / columns are never in it.

    Min-label propagation: each product takes the smallest label of its countries, each country
    the smallest label of its products, until stable (a few passes: the graph's diameter).
    Largest = most countries (ties: most products, then the first).
    """
    B = np.asarray(M) > 0
    ac, ap = B.any(axis=1), B.any(axis=0)
    n_c = B.shape[0]
    none = n_c  # label of inactive entries, larger than any real label
    label = np.where(ac, np.arange(n_c), none)
    while True:
        p_label = np.where(B, label[:, None], none).min(axis=0, initial=none)
        new = np.minimum(label, np.where(B, p_label[None, :], none).min(axis=1, initial=none))
        if np.array_equal(new, label):
            break
        label = new
    if not ac.any():
        return ac, ap
    labels, n_countries = np.unique(label[ac], return_counts=True)
    n_products = np.array([(p_label == lab).sum() for lab in labels])
    best = labels[np.lexsort((n_products, n_countries))[-1]]
    return label == best, p_label == best


def expand(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Scatter values computed on the active entries back to full length, NaN elsewhere."""
    out = np.full(mask.shape[0], np.nan)
    out[mask] = values
    return out


def expand_matrix(values: np.ndarray, row_mask: np.ndarray, col_mask: np.ndarray) -> np.ndarray:
    """Scatter an active-rows x active-columns matrix back to full shape, NaN elsewhere."""
    out = np.full((row_mask.shape[0], col_mask.shape[0]), np.nan)
    out[np.ix_(row_mask, col_mask)] = values
    return out


def year_matrix(rows: pd.DataFrame, value: str = "mcp") -> YearMatrix:
    """Pivot one year's long rows (``country_code, product, <value>``) into a dense YearMatrix.

    Absent pairs are 0. Raises ValueError on a duplicated (country, product) pair, which would
    otherwise be summed silently into M_cp = 2.
    """
    # pandas' hash-based factorize: ~10x faster than np.unique on a million product strings.
    c_idx, countries = pd.factorize(rows["country_code"].astype(np.int64), sort=True)
    p_idx, products = pd.factorize(rows["product"].astype(str), sort=True)
    n_c, n_p = len(countries), len(products)
    flat = c_idx.astype(np.int64) * n_p + p_idx
    if flat.size and np.bincount(flat, minlength=n_c * n_p).max() > 1:
        raise ValueError("duplicated (country_code, product) rows within one year")
    M = np.zeros(n_c * n_p)
    M[flat] = rows[value].to_numpy(dtype=np.float64)
    return YearMatrix(
        np.asarray(countries, dtype=np.int64),
        np.asarray(products, dtype=object),
        M.reshape(n_c, n_p),
    )


def descending_rank(values: np.ndarray) -> pd.Series:
    """Rank 1 = largest; ties share the best rank ("min"); NaN -> <NA> (null in Spark)."""
    return pd.Series(values).rank(method="min", ascending=False, na_option="keep").astype("Int32")


def safe_log10(values: np.ndarray) -> np.ndarray:
    """log10 of positive finite values, NaN otherwise (a fitness that underflowed to 0 -> NULL)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    ok = np.isfinite(values) & (values > 0)
    out[ok] = np.log10(values[ok])
    return out
