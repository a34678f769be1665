"""Revealed comparative advantage (Balassa 1965) and the binary country-product matrix M.

The one implementation of RCA in the project: the yearly indicators (``lib.measures.yearly``), the
sector RCA of the report (``lib.classifications.sectors``) and the location quotients of regional data all call
these functions on a year's dense exports matrix X (countries x products, 0 where none):

    RCA_cp            = (X_cp / X_c) / (X_p / X)
    rca_difference_cp = X_cp / X_c - X_p / X        (the additive variant, IPPR 2014 footnote 11)
    M_cp              = RCA_cp >= threshold          (strict: RCA_cp > threshold, as Stata/Atlas)
    RPOP_cp           = (X_cp / pop_c) / (X_p / pop)  (``population_rca``, with a population input)

A country without exports has RCA 0 everywhere (not NaN), and so has a cell without exports.

Pure numpy: must not know about Spark, tables or the config.
"""

from __future__ import annotations

import numpy as np


def revealed_comparative_advantage(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Balassa RCA and the additive RCA (rca_difference) of an exports matrix X >= 0.

    RCA is 0 where X_cp = 0; rca_difference is then -X_p / X (the country's share is 0)."""
    X = np.asarray(X, dtype=np.float64)
    has = X > 0
    X_c = X.sum(axis=1)[:, None]
    total = X.sum()
    share_p = (X.sum(axis=0) / total)[None, :] if total > 0 else np.zeros((1, X.shape[1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        country_share = np.where(has, X / X_c, 0.0)
        rca = np.where(has, country_share / share_p, 0.0)
    return rca, country_share - share_p


def binary_presence(rca: np.ndarray, threshold: float = 1.0, strict: bool = False) -> np.ndarray:
    """M (0.0 / 1.0): RCA >= threshold, or > threshold with ``strict``; never where RCA is 0."""
    rca = np.asarray(rca)
    present = rca > threshold if strict else rca >= threshold
    return ((rca > 0) & present).astype(np.float64)


def population_rca(X: np.ndarray, population: np.ndarray) -> np.ndarray:
    """RPOP (Stata ``ecomplexity``'s rpop): exports per person relative to the world's,

        RPOP_cp = (X_cp / pop_c) / (sum_c X_cp / sum_c pop_c),

    both sums over the countries with a known, positive population; NaN for the others (no
    population: no RPOP), 0 where X_cp = 0."""
    X = np.asarray(X, dtype=np.float64)
    population = np.asarray(population, dtype=np.float64)
    known = np.isfinite(population) & (population > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_person = X[known].sum(axis=0) / population[known].sum()
        rpop = np.where(X > 0, X / population[:, None] / per_person[None, :], 0.0)
    return np.where(known[:, None], rpop, np.nan)


PRESENCE_TESTS = ("rca", "rpop", "both")


def presence_by_test(
    rca: np.ndarray,
    rpop: np.ndarray,
    test: str,
    threshold: float = 1.0,
    strict: bool = False,
    rpop_threshold: float = 1.0,
) -> np.ndarray:
    """M (0.0 / 1.0) by the presence test (Stata ecomplexity / py-ecomplexity): ``rca`` RCA >=
    threshold (> if strict); ``rpop`` RPOP >= rpop_threshold; ``both`` either. NaN RPOP (no
    population) is never present by RPOP. Works on matrices and on rows alike (the in-task
    and the distributed paths)."""
    by_rca = binary_presence(rca, threshold, strict)
    by_rpop = binary_presence(np.nan_to_num(rpop), rpop_threshold)
    if test not in PRESENCE_TESTS:
        raise ValueError(f"presence test must be one of {', '.join(PRESENCE_TESTS)}: {test!r}")
    return {"rca": by_rca, "rpop": by_rpop, "both": np.maximum(by_rca, by_rpop)}[test]
