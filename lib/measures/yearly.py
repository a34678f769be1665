"""Every matrix indicator of one year, from that year's exports, in numpy: the yearly core.

The pipeline (``lib.execution.indicators``) runs these functions once per year inside one Spark task:
``year_indicators`` takes the year's long exports rows ``country_code, product, export_value``
(all products at the configured level, erratic items already left out) and computes every
indicator once; ``summary_tables`` shapes them into the small tables' rows,
``lib.measures.year_rows`` into the large tables' rows, block by block. WHY one task per year:
the RCA, M and every indicator of a year depend only on that year, and M is small (at most
~250 x 5,000 for BACI; ``lib.execution.distributed.choice`` sends larger years elsewhere), so a
task computes all of them from one dense matrix instead of Spark re-deriving M for each one.

This is the only implementation of each indicator, the one the job runs and the reference
tests check; the definitions live in the per-indicator modules, whose numpy cores are called
here:

- thresholds (``year_presence``): rows of countries whose total exports or of products whose
  world exports are below the minimum are dropped;
- RCA and M (``lib.measures.rca``) on the rows kept;
- Fitness (``lib.measures.fitness``), ECI / PCI (``lib.measures.eci``), density, COI, COG and proximity
  (``lib.measures.product_space``) on M.

Countries and products are those of the year's exports; the indicators are NaN (NULL) for those
dropped by the thresholds or inactive.

Must not hold a formula of its own (each is in its measure's module) nor know about Spark.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from lib.io.country_attributes import CountryAttributes
from lib.measures.eci import eci_pci_matrix
from lib.measures.fitness import FitnessResult, fitness_complexity_matrix
from lib.measures.genepy import genepy_matrix
from lib.measures.matrix import descending_rank, safe_log10, year_matrix
from lib.measures.nhefc import nhefc_matrix
from lib.measures.product_space import (
    OutlookResult,
    density_and_outlook_matrix,
)
from lib.measures.productivity import prody_expy
from lib.measures.rca import population_rca, presence_by_test, revealed_comparative_advantage
from lib.measures.smoothing import smoothed_rows


@dataclass(frozen=True)
class YearSettings:
    """The methodology options a yearly computation needs (a plain, picklable record)."""

    min_country_export: float = 0.0
    min_product_export: float = 0.0
    min_population: float = 0.0  # applied where the country attributes give a population
    rca_threshold: float = 1.0
    rca_strict: bool = False
    presence_test: str = "rca"  # rca, rpop or both (rca.presence_test)
    rpop_threshold: float = 1.0
    # rca.smoothing_*: weights of t, t-1, ...; () = no smoothing (lib.measures.smoothing)
    smoothing_weights: tuple[float, ...] = ()
    fitness: bool = True  # False: a pass that does not need Fitness skips it
    max_iterations: int = 200
    tolerance: float = 1e-12
    two_step: bool = False  # eci.two_step: the Atlas two-step (ECI of every exporter)
    fitness_method: str = "tacchella"  # tacchella, nhefc or genepy (fitness.method)
    nhefc_delta: float = 1e-3
    normalization: str = "atlas"
    product_space: bool = True
    proximity_diagonal: float = 0.0
    min_proximity: float = 0.0
    # product_space.density_pairs: which cells without exports the grid writes (all, absent,
    # top_k: the density_top_k absent activities of highest density per place)
    density_pairs: str = "all"
    density_top_k: int = 20
    # product_space.projection: "bicm" also writes the BiCM-validated links (lib.measures.bicm)
    projection: str = "proximity"
    bicm_alpha: float = 0.05
    bicm_validation: str = "fdr"
    # The optional country attributes input (population, GDP per capita), every year's rows.
    attributes: CountryAttributes | None = field(default=None, compare=False, repr=False)

    def without_fitness(self) -> YearSettings:
        """The same settings for a pass that does not need Fitness (the grid, the pairs)."""
        return replace(self, fitness=False)


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
    rpop: np.ndarray  # RPOP_cp (NaN where the population is unknown)
    population: np.ndarray  # per country (all exporters), NaN where unknown
    gdp_per_capita: np.ndarray  # per country (all exporters), NaN where unknown
    # Atlas two-step only: every exporter (rows) x kept products, M from the RCA among them all.
    M_all: np.ndarray | None = None

    @property
    def codes(self) -> tuple[np.ndarray, np.ndarray]:
        """Country and product codes of the matrices' rows and columns."""
        return self.countries[self.kept_countries], self.products[self.kept_products]


def year_presence(rows: pd.DataFrame, settings: YearSettings, year: int = 0) -> YearPresence:
    """Thresholds, RCA and M of one year's exports rows (country_code, product, export_value);
    ``year`` picks the year's country attributes, if any. With smoothing the rows are the
    year's window (a ``source_year`` column, ``lib.measures.smoothing``), averaged first."""
    if settings.smoothing_weights and "source_year" in rows.columns:
        rows = smoothed_rows(rows, year, settings.smoothing_weights)
    exports = year_matrix(rows, value="export_value")
    X_all = exports.M
    total, world = X_all.sum(axis=1), X_all.sum(axis=0)
    population = gdp = np.full(total.size, np.nan)
    if settings.attributes is not None:
        population, gdp = (v.to_numpy() for v in settings.attributes.year(year, exports.countries))
    keep = (X_all > 0) & (total >= settings.min_country_export)[:, None]
    keep &= ~(population < settings.min_population)[:, None]  # unknown population: kept
    keep &= (world >= settings.min_product_export)[None, :]
    kept_c, kept_p = keep.any(axis=1), keep.any(axis=0)
    X = np.where(keep, X_all, 0.0)[np.ix_(kept_c, kept_p)]
    rca, rca_difference, rpop, M = rca_and_presence(X, settings, population[kept_c])
    # The Atlas two-step: every exporter's presence in the core products, RCA among all of them.
    M_all = None
    if settings.two_step:
        M_all = rca_and_presence(X_all[:, kept_p], settings, population)[3]
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
        rpop,
        population,
        gdp,
        M_all,
    )


def rca_and_presence(
    X: np.ndarray, settings: YearSettings, population: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Balassa RCA (0 where no exports), additive RCA, RPOP and M of an exports matrix.

    RPOP_cp = (X_cp / pop_c) / (sum_c X_cp / sum_c pop_c), the sums over the countries with a
    known population (Stata ecomplexity's rpop; NaN for the others). M by ``presence_test``
    (Stata ecomplexity / py-ecomplexity): ``rca`` RCA >= threshold (> if strict); ``rpop``
    RPOP >= rpop_threshold; ``both`` either (py-ecomplexity 0.5.3 adds the two 0/1 tests,
    giving 2 where both hold; M is 1 there). A country without a population has RPOP NaN: no
    presence by the RPOP test.
    """
    rca, rca_difference = revealed_comparative_advantage(X)
    rpop = population_rca(X, population)
    M = presence_by_test(
        rca,
        rpop,
        settings.presence_test,
        settings.rca_threshold,
        settings.rca_strict,
        settings.rpop_threshold,
    )
    return rca, rca_difference, rpop, M


def two_step_eci(yp: YearPresence, eci: np.ndarray, pci: np.ndarray) -> np.ndarray:
    """ECI of every exporter (full length): the core's ECI for core countries, and for the others
    the mean PCI of the core products they have (M from the RCA among all exporters) -- what
    the core's ECI is too under the atlas normalisation (ECI_c = mean PCI of c's products), so
    both are on one scale. NaN for a country with no core product of known PCI."""
    known = np.isfinite(pci)
    M = yp.M_all[:, known]
    with np.errstate(invalid="ignore", divide="ignore"):
        projected = (M @ pci[known]) / M.sum(axis=1)
    out = np.where(M.sum(axis=1) > 0, projected, np.nan)
    out[yp.kept_countries] = eci
    return out


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
    eci_all: np.ndarray | None = None  # two-step: ECI of every exporter (full length)
    prody: np.ndarray | None = None  # per kept product (with GDP per capita input)
    expy: np.ndarray | None = None  # per kept country


def year_indicators(year: int, rows: pd.DataFrame, settings: YearSettings) -> YearIndicators:
    """Thresholds, RCA, M, Fitness (if ``settings.fitness``), ECI / PCI and, with the product
    space, density, COG and COI of one year's exports rows (country_code, product,
    export_value)."""
    yp = year_presence(rows, settings, year)
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
    eci_all = two_step_eci(yp, eci_c, pci) if yp.M_all is not None else None
    prody = expy = None
    if n_c and np.isfinite(yp.gdp_per_capita[yp.kept_countries]).any():
        prody, expy = prody_expy(yp.X, yp.gdp_per_capita[yp.kept_countries])
    return YearIndicators(year, yp, fit, eci_c, pci, mean_pci, outlook, eci_all, prody, expy)


# fitness.method -> the numpy core computing the fitness and complexity columns
FITNESS_METHODS = ("tacchella", "nhefc", "genepy")


def country_fitness(M: np.ndarray, settings: YearSettings) -> FitnessResult:
    """The fitness / complexity vectors of ``settings.fitness_method``: Tacchella et al. 2012
    (``lib.measures.fitness``), the non-homogeneous map of Servedio et al. 2018 (``lib.measures.nhefc``) or
    GENEPY (Sciarra et al. 2020, ``lib.measures.genepy``)."""
    method, n, tol = settings.fitness_method, settings.max_iterations, settings.tolerance
    if method == "tacchella":
        return fitness_complexity_matrix(M, n, tol)
    if method == "nhefc":
        return nhefc_matrix(M, settings.nhefc_delta, n, tol)
    if method == "genepy":
        return genepy_matrix(M)
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
    mean_pci = _expand_rows(ind.mean_product_complexity, kc)
    diversification = _expand_counts(yp.M.sum(axis=1), kc)
    if ind.eci_all is not None:  # two-step: every exporter with a core product
        eci_all = ind.eci_all
        mean_pci = np.where(kc, mean_pci, ind.eci_all)
        outside = yp.M_all.sum(axis=1)
        counts = np.where(kc, np.nan_to_num(_expand_rows(yp.M.sum(axis=1), kc)), outside)
        diversification = pd.arrays.IntegerArray(counts.astype(np.int32), ~(kc | (outside > 0)))
    country = pd.DataFrame(
        {
            "year": np.full(kc.size, year, dtype=np.int32),
            "country_code": yp.countries.astype(np.int32),
            "export_value": yp.total_exports,
            "diversification": diversification,
            "fitness": fitness_all,
            "log10_fitness": safe_log10(fitness_all),
            "fitness_rank": descending_rank(fitness_all),
            "eci": eci_all,
            "eci_rank": descending_rank(eci_all),
            "coi": _expand_rows(coi, kc),
            "mean_product_complexity": mean_pci,
            "in_core": kc,
            "population": yp.population,
            "gdp_per_capita": yp.gdp_per_capita,
            "expy": _expand_rows(ind.expy, kc) if ind.expy is not None else np.nan,
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
            "in_core": kp,
            "prody": _expand_rows(ind.prody, kp) if ind.prody is not None else np.nan,
        }
    )
    tables = {"country": country, "product": product}
    if settings.fitness and n_c:
        tables["convergence"] = pd.DataFrame(
            {
                "year": [year],
                "iterations": [fit.iterations],
                "final_change": [fit.final_change],
                "execution": ["per_year"],
                "method": [settings.fitness_method],
            }
        )
    return tables
