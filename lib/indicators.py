"""Every matrix indicator of one year, from that year's exports, in numpy: the yearly core.

The pipeline (``lib.pipeline``) runs these functions once per year inside one Spark task:
``year_indicators`` takes the year's long exports rows ``country_code, product, export_value``
(all products at the configured level, erratic items already left out) and computes every
indicator once; ``summary_tables``, ``grid_rows`` and ``proximity_blocks`` shape them into
finished table rows. WHY one task per year: the RCA, M and every indicator of a year depend only
on that year, and M is small (at most ~250 x 5,000), so a task computes all of them from one
dense matrix instead of Spark re-deriving M for each indicator.

This is the only implementation of each indicator, the one the job runs and the reference
tests check; the definitions live in the per-indicator modules, whose numpy cores are called
here:

- thresholds (``year_presence``): rows of countries whose total exports or of products whose
  world exports are below the minimum are dropped;
- RCA and M (``lib.rca``) on the rows kept;
- Fitness (``lib.fitness``), ECI / PCI (``lib.eci``), density, COI, COG and proximity
  (``lib.product_space``) on M.

Countries and products are those of the year's exports; the indicators are NaN (NULL) for those
dropped by the thresholds or inactive.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyarrow as pa

from lib.config import Config
from lib.eci import eci_pci_matrix
from lib.fitness import FitnessResult, fitness_complexity_matrix
from lib.genepy import genepy_matrix
from lib.matrices import descending_rank, safe_log10, year_matrix
from lib.nhefc import nhefc_matrix
from lib.product_space import (
    OutlookResult,
    density_and_outlook_matrix,
    proximity_matrix,
    proximity_pair_blocks,
)
from lib.rca import binary_presence, revealed_comparative_advantage


@dataclass(frozen=True)
class YearSettings:
    """The methodology options a yearly computation needs (a plain, picklable record)."""

    min_country_export: float = 0.0
    min_product_export: float = 0.0
    rca_threshold: float = 1.0
    rca_strict: bool = False
    fitness: bool = True  # False: a pass that does not need Fitness skips it
    max_iterations: int = 200
    tolerance: float = 1e-12
    fitness_method: str = "tacchella"  # tacchella, nhefc or genepy (fitness.method)
    nhefc_delta: float = 1e-3
    normalization: str = "atlas"
    product_space: bool = True
    proximity_diagonal: float = 0.0
    min_proximity: float = 0.0

    def without_fitness(self) -> YearSettings:
        """The same settings for a pass that does not need Fitness (the grid, the pairs)."""
        return replace(self, fitness=False)

    @classmethod
    def from_config(cls, config: Config) -> YearSettings:
        return cls(
            min_country_export=config.countries.min_export_value,
            min_product_export=config.products.min_world_export,
            rca_threshold=config.rca.threshold,
            rca_strict=config.rca.strict,
            max_iterations=config.fitness.max_iterations,
            tolerance=config.fitness.tolerance,
            fitness_method=config.fitness.method,
            nhefc_delta=config.fitness.nhefc_delta,
            normalization=config.eci.normalization,
            product_space=config.product_space.enabled,
            proximity_diagonal=config.product_space.proximity_diagonal,
            min_proximity=config.product_space.min_proximity,
        )


@dataclass(frozen=True)
class YearPresence:
    """One year's exports as dense matrices.

    ``countries`` / ``products`` (sorted) are every exporter and product of the year;
    ``kept_countries`` / ``kept_products`` the masks of those left by the thresholds (they have
    at least one kept row); the matrices cover kept countries x kept products only.
    """

    countries: np.ndarray
    products: np.ndarray
    total_exports: np.ndarray  # per country, all its exports
    world_exports: np.ndarray  # per product, all its exports
    kept_countries: np.ndarray
    kept_products: np.ndarray
    X: np.ndarray  # kept exports, 0 where none
    rca: np.ndarray  # 0 where no exports
    rca_difference: np.ndarray  # X_cp / X_c - X_p / X (= -X_p / X where no exports)
    M: np.ndarray  # 0/1

    @property
    def codes(self) -> tuple[np.ndarray, np.ndarray]:
        """Country and product codes of the matrices' rows and columns."""
        return self.countries[self.kept_countries], self.products[self.kept_products]


def year_presence(rows: pd.DataFrame, settings: YearSettings) -> YearPresence:
    """Thresholds, RCA and M of one year's exports rows (country_code, product, export_value)."""
    exports = year_matrix(rows, value="export_value")
    X_all = exports.M
    total, world = X_all.sum(axis=1), X_all.sum(axis=0)
    keep = (X_all > 0) & (total >= settings.min_country_export)[:, None]
    keep &= (world >= settings.min_product_export)[None, :]
    kept_c, kept_p = keep.any(axis=1), keep.any(axis=0)
    X = np.where(keep, X_all, 0.0)[np.ix_(kept_c, kept_p)]

    rca, rca_difference = revealed_comparative_advantage(X)
    M = binary_presence(rca, settings.rca_threshold, settings.rca_strict)
    return YearPresence(
        exports.countries,
        exports.products,
        total,
        world,
        kept_c,
        kept_p,
        X,
        rca,
        rca_difference,
        M,
    )


def _expand_rows(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Values of the kept rows scattered to every row, NaN for the others."""
    out = np.full(mask.shape[0], np.nan)
    out[mask] = values
    return out


def _expand_counts(values: np.ndarray, mask: np.ndarray) -> pd.arrays.IntegerArray:
    """Counts of the kept rows scattered to every row, <NA> (NULL) for the others."""
    out = np.zeros(mask.shape[0], dtype=np.int32)
    out[mask] = values
    return pd.arrays.IntegerArray(out, ~mask)


@dataclass(frozen=True)
class YearIndicators:
    """Every matrix indicator of one year, computed once from its presence matrices.

    Vectors cover the kept countries / products (the rows and columns of ``presence.M``);
    ``outlook`` is None without the product space.
    """

    year: int
    presence: YearPresence
    fit: FitnessResult
    eci: np.ndarray
    pci: np.ndarray
    mean_product_complexity: np.ndarray
    outlook: OutlookResult | None


def year_indicators(year: int, rows: pd.DataFrame, settings: YearSettings) -> YearIndicators:
    """Thresholds, RCA, M, Fitness (if ``settings.fitness``), ECI / PCI and, with the product
    space, density, COG and COI of one year's exports rows (country_code, product,
    export_value)."""
    yp = year_presence(rows, settings)
    n_c, n_p = yp.M.shape
    if settings.fitness and n_c:
        fit = country_fitness(yp.M, settings)
    else:
        fit = FitnessResult(np.full(n_c, np.nan), np.full(n_p, np.nan), 0, np.nan)
    if n_c:
        eci = eci_pci_matrix(yp.M, settings.normalization)
        eci_c, pci, mean_pci = eci.eci, eci.pci, eci.mean_product_complexity
    else:
        eci_c, pci, mean_pci = np.empty(0), np.empty(0), np.empty(0)
    outlook = None
    if settings.product_space and n_c:
        outlook = density_and_outlook_matrix(
            yp.M, pci, settings.proximity_diagonal, settings.normalization
        )
    return YearIndicators(year, yp, fit, eci_c, pci, mean_pci, outlook)


# fitness.method -> the numpy core computing the fitness and complexity columns
FITNESS_METHODS = ("tacchella", "nhefc", "genepy")


def country_fitness(M: np.ndarray, settings: YearSettings) -> FitnessResult:
    """The fitness / complexity vectors of ``settings.fitness_method``: Tacchella et al. 2012
    (``lib.fitness``), the non-homogeneous map of Servedio et al. 2018 (``lib.nhefc``) or
    GENEPY (Sciarra et al. 2020, ``lib.genepy``)."""
    method, n, tol = settings.fitness_method, settings.max_iterations, settings.tolerance
    if method == "tacchella":
        return fitness_complexity_matrix(M, n, tol)
    if method == "nhefc":
        return nhefc_matrix(M, settings.nhefc_delta, n, tol)
    if method == "genepy":
        return genepy_matrix(M, settings.nhefc_delta, n, tol)
    raise ValueError(f"fitness method must be one of {', '.join(FITNESS_METHODS)}: {method!r}")


def summary_tables(ind: YearIndicators, settings: YearSettings) -> dict[str, pd.DataFrame]:
    """The per-country, per-product and convergence rows of one year.

    - country: every exporter: export_value (all its exports), diversification, fitness,
      log10_fitness, fitness_rank, eci, eci_rank, coi, mean_product_complexity
    - product: every product exported: world_export_value, ubiquity, complexity,
      log10_complexity, complexity_rank, pci
    - convergence: one row (none if the thresholds left nothing, or without ``fitness``)
    """
    yp, fit, year = ind.presence, ind.fit, ind.year
    kc, kp = yp.kept_countries, yp.kept_products
    n_c = yp.M.shape[0]
    coi = ind.outlook.coi if ind.outlook is not None else np.full(n_c, np.nan)
    fitness_all = _expand_rows(fit.fitness, kc)
    eci_all = _expand_rows(ind.eci, kc)
    country = pd.DataFrame(
        {
            "year": np.full(kc.size, year, dtype=np.int32),
            "country_code": yp.countries.astype(np.int32),
            "export_value": yp.total_exports,
            "diversification": _expand_counts(yp.M.sum(axis=1), kc),
            "fitness": fitness_all,
            "log10_fitness": safe_log10(fitness_all),
            "fitness_rank": descending_rank(fitness_all),
            "eci": eci_all,
            "eci_rank": descending_rank(eci_all),
            "coi": _expand_rows(coi, kc),
            "mean_product_complexity": _expand_rows(ind.mean_product_complexity, kc),
        }
    )
    complexity_all = _expand_rows(fit.complexity, kp)
    product = pd.DataFrame(
        {
            "year": np.full(kp.size, year, dtype=np.int32),
            "product": yp.products.astype(object),
            "world_export_value": yp.world_exports,
            "ubiquity": _expand_counts(yp.M.sum(axis=0), kp),
            "complexity": complexity_all,
            "log10_complexity": safe_log10(complexity_all),
            "complexity_rank": descending_rank(complexity_all),
            "pci": _expand_rows(ind.pci, kp),
        }
    )
    tables = {"country": country, "product": product}
    if settings.fitness and n_c:
        tables["convergence"] = pd.DataFrame(
            {
                "year": [year],
                "iterations": [fit.iterations],
                "final_change": [fit.final_change],
                "method": [settings.fitness_method],
            }
        )
    return tables


def grid_rows(ind: YearIndicators) -> pd.DataFrame:
    """country_product_year rows of one year: every kept country x kept product, with exports,
    RCA, M, density and COG (pairs without exports included: they are the opportunities).
    Without the product space, only the pairs with exports (density and COG NULL)."""
    yp = ind.presence
    countries, products = yp.codes
    n_c, n_p = yp.M.shape
    if ind.outlook is not None:
        density, cog = ind.outlook.density, ind.outlook.cog
        cells = np.arange(n_c * n_p)
    else:
        density = cog = np.full((n_c, n_p), np.nan)
        cells = np.flatnonzero(yp.X > 0)
    c, p = np.divmod(cells, n_p)
    return pd.DataFrame(
        {
            "year": np.full(cells.size, ind.year, dtype=np.int32),
            "country_code": countries.astype(np.int32)[c],
            "product": _codes_at(products, p),
            "export_value": yp.X.reshape(-1)[cells],
            "rca": yp.rca.reshape(-1)[cells],
            "rca_difference": yp.rca_difference.reshape(-1)[cells],
            "mcp": yp.M.reshape(-1)[cells].astype(np.int32),
            "density": density.reshape(-1)[cells],
            "cog": cog.reshape(-1)[cells],
        }
    )


def proximity_blocks(ind: YearIndicators, min_proximity: float = 0.0) -> Iterator[pd.DataFrame]:
    """The year's proximity pairs in both orders, (a, b) and (b, a) (non-zero, at least
    ``min_proximity``, never the diagonal), in blocks of consecutive ``product_a``: bounded
    memory at HS6, ~50 million rows a year."""
    _, products = ind.presence.codes
    if ind.outlook is not None:  # phi of the active products, already made for density
        phi, products = ind.outlook.proximity, products[ind.outlook.active_products]
    else:
        phi = proximity_matrix(ind.presence.M)
    for a, b, values in proximity_pair_blocks(phi, min_proximity, upper_only=False):
        yield _pairs_frame(ind.year, products, a, b, values)


def _pairs_frame(
    year: int, products: np.ndarray, a: np.ndarray, b: np.ndarray, values: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": np.full(a.size, year, dtype=np.int32),
            "product_a": _codes_at(products, a),
            "product_b": _codes_at(products, b),
            "proximity": values,
        }
    )


def _codes_at(codes: np.ndarray, index: np.ndarray) -> pd.arrays.ArrowExtensionArray:
    """codes[index] as an Arrow-backed column. WHY: these columns have millions of rows of a
    few thousand codes; Arrow's take builds them in C++ and Spark receives them without a
    conversion from Python strings (seconds per year at HS6)."""
    return pd.arrays.ArrowExtensionArray(pa.array(codes.astype(object), pa.string()).take(index))
