"""Nestedness of the country-product matrix: NODF (Almeida-Neto et al. 2008, Oikos 117:1227).

The report's figure 3.8 argues that M is triangular (nested), not diagonal: fit countries export
nearly everything, weak ones only the ubiquitous products. NODF puts a number on that per year.

For every pair of rows (countries) i, j with degrees k_i > k_j > 0, the paired overlap is the
share of j's ones that i also has, in percent; pairs with equal degrees (or an empty row) count
0. The same for pairs of columns (products). NODF is the mean over all row pairs and column pairs:

    NODF = 100 * (sum_row_pairs PO + sum_col_pairs PO) / (C(m, 2) + C(n, 2))

WHY this (degree-ordered) form: Almeida-Neto's definition depends on the order of the rows and
columns; ordered by decreasing degree, as is standard for a "maximally packed" matrix, the value
depends only on the matrix. It is computed on the active submatrix (countries and products with at
least one 1): empty rows would only add zero pairs. 100 = perfectly nested with distinct
degrees; a full matrix or a diagonal one gives 0.

Must not write tables: it returns rows for ``lib.report.build``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

NESTEDNESS_SCHEMA = (
    "year int, nodf double, nodf_countries double, nodf_products double, "
    "countries int, products int, fill double"
)


@dataclass(frozen=True)
class Nodf:
    nodf: float
    rows: float  # NODF over row pairs only
    columns: float  # NODF over column pairs only


def _paired_overlap_sum(M: np.ndarray) -> tuple[float, int]:
    """(sum over row pairs of the paired overlap in [0, 1], number of row pairs)."""
    n = M.shape[0]
    pairs = n * (n - 1) // 2
    if pairs == 0:
        return 0.0, 0
    A = M.astype(np.float32)
    overlap = A @ A.T  # exact: counts stay far below 2**24
    k = M.sum(axis=1)
    smaller = np.minimum.outer(k, k)
    valid = (k[:, None] != k[None, :]) & (smaller > 0)
    ratio = np.divide(overlap, smaller, out=np.zeros_like(overlap), where=valid)
    upper = np.triu_indices(n, 1)
    return float(ratio[upper].sum(dtype=np.float64)), pairs


def nodf(M: np.ndarray) -> Nodf:
    """NODF of a 0/1 matrix (rows and columns of zeros are dropped first)."""
    M = np.asarray(M) != 0
    M = M[M.any(axis=1)][:, M.any(axis=0)]
    row_sum, row_pairs = _paired_overlap_sum(M)
    col_sum, col_pairs = _paired_overlap_sum(M.T)

    def pct(total: float, pairs: int) -> float:
        return 100.0 * total / pairs if pairs else float("nan")

    return Nodf(
        pct(row_sum + col_sum, row_pairs + col_pairs),
        pct(row_sum, row_pairs),
        pct(col_sum, col_pairs),
    )


def nodf_of_ones(year: int, ones: pd.DataFrame) -> pd.DataFrame:
    """One year's 1-entries (country_code, product) -> one ``nestedness_year`` row."""
    countries = pd.Index(ones.country_code.unique())
    products = pd.Index(ones["product"].unique())
    M = np.zeros((len(countries), len(products)), dtype=bool)
    M[countries.get_indexer(ones.country_code), products.get_indexer(ones["product"])] = True
    result = nodf(M)
    return pd.DataFrame(
        {
            "year": [int(year)],
            "nodf": [result.nodf],
            "nodf_countries": [result.rows],
            "nodf_products": [result.columns],
            "countries": [len(countries)],
            "products": [len(products)],
            "fill": [float(M.mean()) if M.size else float("nan")],
        }
    )


def nestedness_year(country_product_year: DataFrame, years: list[int]) -> DataFrame:
    """NODF of M per year; one task per year holds that year's 1-entries (tens of thousands)."""

    def per_year(key: tuple, pdf: pd.DataFrame) -> pd.DataFrame:
        return nodf_of_ones(key[0], pdf)

    ones = country_product_year.where(F.col("year").isin(years) & (F.col("mcp") == 1)).select(
        "year", "country_code", "product"
    )
    return ones.groupBy("year").applyInPandas(per_year, NESTEDNESS_SCHEMA)
