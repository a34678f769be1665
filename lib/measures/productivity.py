"""PRODY and EXPY (Hausmann, Hwang and Rodrik 2007, "What you export matters", Journal of
Economic Growth 12, 1-25), from one year's exports matrix and GDP per capita.

    s_cp     = X_cp / X_c                              (c's export share of product p)
    PRODY_p  = sum_c [ s_cp / sum_c' s_c'p ] Y_c        (Y = GDP per capita)
    EXPY_c   = sum_p s_cp PRODY_p

PRODY is the income level associated with a product: the average income of its exporters,
weighted by how much of each one's exports it makes up (an RCA-like weight). EXPY is the income
level of a country's export basket.

Unknown GDP per capita (NaN): those countries take no part in PRODY (both sums run over the
countries with a known Y); a product none of them exports has no PRODY (NaN), and EXPY_c runs
over the products with a PRODY, its shares renormalised to sum to 1 (NaN if none). WHY
renormalise: otherwise a missing PRODY would count as an income of 0.

Pure numpy: must not know about Spark, tables or the config.
"""

from __future__ import annotations

import numpy as np


def prody_expy(X: np.ndarray, gdp_per_capita: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(PRODY per product, EXPY per country) of an exports matrix (countries x products, every
    row with some exports) and the countries' GDP per capita (NaN where unknown)."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(gdp_per_capita, dtype=np.float64)
    share = X / X.sum(axis=1, keepdims=True)
    known = np.isfinite(Y)
    weights = share[known]
    with np.errstate(invalid="ignore", divide="ignore"):
        prody = (weights * Y[known][:, None]).sum(axis=0) / weights.sum(axis=0)
        has = np.isfinite(prody)
        covered = share[:, has].sum(axis=1)
        expy = (share[:, has] @ prody[has]) / covered
    return prody, np.where(covered > 0, expy, np.nan)
