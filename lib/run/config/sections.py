"""The configuration's sections: one frozen dataclass per TOML table, each validating its own keys
and naming the offending key in a ConfigError. Adding a key means adding it here, in
conf/default.toml and in docs/configuration.md (a test keeps the three in step). Must not read
files or know about Spark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


class ConfigError(ValueError):
    """A configuration problem, reported with the dotted key it concerns."""

    def __init__(self, key: str, message: str):
        super().__init__(f"config key '{key}': {message}")
        self.key = key


@dataclass(frozen=True)
class InputConfig:
    source: str = ""  # BACI release folder or zip; "" = the embedded default release
    # Optional CSV country,year,population,gdp_per_capita (docs/configuration.md, "Country attributes").
    country_attributes: str = ""
    years: str = ""  # "1995-2010", "2001,2005" or "" for every year in the release
    # What a place x activity table (lib.io.place_activity) holds; stored in
    # place_activity_dataset. "" = "place", "unspecified", "value" (uk-regions sets its own).
    place_kind: str = ""  # country, region, ...
    activity_classification: str = ""  # HS, SITC rev. 2, SIC 2007 division, NAICS, ...
    value_measure: str = ""  # employees, exports USD, ...
    synthetic: bool = False  # the table's data are made up (labelled SYNTHETIC everywhere)
    note: str = ""  # origin of the data, shown in the regional report

    def validate(self) -> None:
        parse_years(self.years, key="input.years")


# Delta's default deletedFileRetentionDuration and the threshold of its VACUUM safety check.
MIN_DELETED_FILE_RETENTION_DAYS = 7
# A metastore database, or catalog.database (Unity Catalog); plain identifiers only.
_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class OutputConfig:
    warehouse: str = (
        "./warehouse"  # local path or any Hadoop URI (s3a://, abfss://, gs://, hdfs://)
    )
    catalog_database: str = ""  # "" = path-only tables; else also registered in this database
    optimize_after_ingest: bool = True
    # How the large tables (baci_flows, country_product_year, product_proximity) are written:
    # arrow (the tasks write pyarrow files, one Delta commit; 2-3x faster), spark (Spark's Delta
    # writer), auto (arrow for a local or S3 warehouse, spark elsewhere: docs/cluster.md).
    writer: Literal["auto", "arrow", "spark"] = "auto"
    # Delta retention: how long time travel to earlier runs is promised (docs/cluster.md, "Maintenance").
    log_retention_days: int = 30
    deleted_file_retention_days: int = 7

    def validate(self) -> None:
        if not self.warehouse:
            raise ConfigError("output.warehouse", "must not be empty")
        if self.log_retention_days < 1:
            raise ConfigError("output.log_retention_days", "must be at least 1")
        if self.deleted_file_retention_days < MIN_DELETED_FILE_RETENTION_DAYS:
            # Delta's VACUUM safety floor: below it a running reader may lose its files.
            raise ConfigError(
                "output.deleted_file_retention_days",
                f"must be at least {MIN_DELETED_FILE_RETENTION_DAYS} (Delta's safety floor)",
            )
        if self.catalog_database and not _DATABASE_NAME.match(self.catalog_database):
            raise ConfigError(
                "output.catalog_database",
                f"'{self.catalog_database}' is not a database name such as ecx or "
                "catalog.database such as main.ecx (letters, digits and _ only)",
            )


@dataclass(frozen=True)
class ProductsConfig:
    level: Literal["hs2", "hs4", "hs6"] = "hs4"
    exclude_erratic: bool = True
    erratic_chapters: tuple[str, ...] = ("71", "97")
    # BACI's "not specified according to kind" codes (999999, 9999AA).
    exclude_unspecified: bool = True
    # Products whose world exports in a year are below this (thousands of USD) are dropped.
    min_world_export: float = 0.0

    def validate(self) -> None:
        for chapter in self.erratic_chapters:
            if len(chapter) != 2 or not chapter.isdigit():
                raise ConfigError(
                    "products.erratic_chapters", f"'{chapter}' is not a 2-digit HS chapter"
                )
        if self.min_world_export < 0:
            raise ConfigError("products.min_world_export", "must not be negative")


@dataclass(frozen=True)
class CountriesConfig:
    # Countries whose total exports in a year are below this (thousands of USD) are dropped.
    min_export_value: float = 0.0
    # Countries with fewer people are dropped (needs input.country_attributes; unknown: kept).
    min_population: float = 0.0

    def validate(self) -> None:
        if self.min_export_value < 0:
            raise ConfigError("countries.min_export_value", "must not be negative")
        if self.min_population < 0:
            raise ConfigError("countries.min_population", "must not be negative")


@dataclass(frozen=True)
class RcaConfig:
    threshold: float = 1.0
    # Presence test: RCA >= threshold (R, py-ecomplexity, Datawheel) or RCA > threshold (Stata/Atlas).
    strict: bool = False
    # rca, rpop (exports per person, needs input.country_attributes) or both (either test), as
    # Stata ecomplexity and py-ecomplexity.
    presence_test: Literal["rca", "rpop", "both"] = "rca"
    rpop_threshold: float = 1.0
    # RCA and M of year t from the exports of t, t-1, ..., t-k+1 (lib.measures.smoothing): k years,
    # weighted by smoothing_weights (for t, t-1, ...; empty = equal weights, the k-year mean).
    smoothing_years: int = 1
    smoothing_weights: tuple[float, ...] = ()

    def validate(self) -> None:
        if self.smoothing_years < 1:
            raise ConfigError("rca.smoothing_years", "must be at least 1 (1 = no smoothing)")
        if self.smoothing_weights and len(self.smoothing_weights) != self.smoothing_years:
            raise ConfigError(
                "rca.smoothing_weights",
                f"{len(self.smoothing_weights)} weights for rca.smoothing_years = "
                f"{self.smoothing_years}: give one per year (t, t-1, ...) or none",
            )
        if any(w < 0 for w in self.smoothing_weights) or (
            self.smoothing_weights and self.smoothing_weights[0] <= 0
        ):
            raise ConfigError(
                "rca.smoothing_weights", "must not be negative, and the year's own must be > 0"
            )
        if self.threshold <= 0:
            raise ConfigError("rca.threshold", "must be positive")
        if self.rpop_threshold <= 0:
            raise ConfigError("rca.rpop_threshold", "must be positive")


@dataclass(frozen=True)
class FitnessConfig:
    # tacchella (Tacchella et al. 2012), nhefc (non-homogeneous map, Servedio et al. 2018) or
    # genepy (Sciarra et al. 2020): what the fitness / complexity columns hold.
    method: Literal["tacchella", "nhefc", "genepy"] = "tacchella"
    # delta of the non-homogeneous map (nhefc only); > 0.
    nhefc_delta: float = 1e-3
    max_iterations: int = 200  # N updates starting from F = Q = 1
    tolerance: float = 1e-12  # stop when max |change| of F and Q falls below; 0 = run all N

    def validate(self) -> None:
        if self.max_iterations < 1:
            raise ConfigError("fitness.max_iterations", "must be at least 1")
        if self.nhefc_delta <= 0:
            raise ConfigError("fitness.nhefc_delta", "must be positive")
        if self.tolerance < 0:
            raise ConfigError("fitness.tolerance", "must not be negative")


@dataclass(frozen=True)
class EciConfig:
    # atlas: Stata ecomplexity (sd over the country x product rows; PCI on ECI's scale);
    # zscore: plain z-scores of ECI and of PCI over countries and products (sample sd).
    normalization: Literal["atlas", "zscore"] = "atlas"
    # The Atlas two-step: PCI (and every other indicator) on the core left by the size rules
    # (countries.*, products.min_world_export); then every exporter's ECI = mean PCI of the core
    # products it has (M from the RCA among all exporters). in_core flags the core's rows.
    two_step: bool = False

    def validate(self) -> None:
        if self.two_step and self.normalization != "atlas":
            raise ConfigError(
                "eci.two_step",
                "needs eci.normalization = atlas (ECI = mean PCI of a country's products only "
                "holds on the atlas scale)",
            )


@dataclass(frozen=True)
class ProductSpaceConfig:
    enabled: bool = True
    # Pairs with proximity below this are not written to product_proximity (0 = all non-zero).
    min_proximity: float = 0.0
    # phi_pp used inside density and COG: 0 as Stata ecomplexity / the Atlas, 1 as py-ecomplexity
    # and the R package. The proximity table never holds the diagonal.
    proximity_diagonal: float = 0.0
    # Which density / COG cells are written (docs/execution.md, "Product space at scale"):
    # "all" every place x activity (the in-task default, as always), "absent" the pairs without
    # presence, "top_k" the density_top_k absent activities of highest density per place.
    density_pairs: str = "all"
    density_top_k: int = 20
    # "bicm": also the BiCM-validated projection of M, written to product_bicm_links
    # (lib.measures.bicm), and used by the report's product space picture / GraphML.
    projection: str = "proximity"
    bicm_alpha: float = 0.05  # significance of the validated links
    bicm_validation: str = "fdr"  # multiple-test correction: fdr (Benjamini-Hochberg), bonferroni

    def validate(self) -> None:
        if self.projection not in ("proximity", "bicm"):
            raise ConfigError("product_space.projection", "must be proximity or bicm")
        if not 0 < self.bicm_alpha < 1:
            raise ConfigError("product_space.bicm_alpha", "must be between 0 and 1 (exclusive)")
        if self.bicm_validation not in ("fdr", "bonferroni"):
            raise ConfigError("product_space.bicm_validation", "must be fdr or bonferroni")
        if self.density_pairs not in ("all", "absent", "top_k"):
            raise ConfigError("product_space.density_pairs", "must be all, absent or top_k")
        if self.density_top_k < 1:
            raise ConfigError("product_space.density_top_k", "must be at least 1")
        if not 0 <= self.min_proximity <= 1:
            raise ConfigError("product_space.min_proximity", "must be between 0 and 1")
        if self.proximity_diagonal not in (0.0, 1.0):
            raise ConfigError("product_space.proximity_diagonal", "must be 0 or 1")


PREDICTION_METHODS = ("density", "bicm_density", "random_forest", "gradient_boosting")


@dataclass(frozen=True)
class PredictionConfig:
    """Opportunity scores, their backtests and growth forecasts (docs/prediction.md)."""

    enabled: bool = True  # needs product_space.enabled (the density)
    # density (cheap, the default), random_forest, gradient_boosting (scikit-learn; opt-in)
    methods: tuple[str, ...] = ("density",)
    horizon: int = 5  # years between the scores (t) and the outcome checked (t + horizon)
    entry_below: float = 0.25  # candidates: RCA at t below this (the products not yet had)
    k: int = 10  # length of a country's list in precision@k
    seed: int = 0  # random_state of the classifiers
    trees: int = 100  # n_estimators of the classifiers
    ml_tasks: int = 16  # product groups fitted in parallel (Spark tasks)
    # Growth forecasts (with input.country_attributes): SPS kernel width in the
    # (ln fitness, ln GDP per capita) plane, bootstrap samples and their seed.
    sps_sigma: float = 0.5
    sps_bootstrap: int = 100
    sps_seed: int = 42

    def validate(self) -> None:
        for method in self.methods:
            if method not in PREDICTION_METHODS:
                raise ConfigError(
                    "prediction.methods",
                    f"unknown method {method!r}; known: {', '.join(PREDICTION_METHODS)}",
                )
        if len(set(self.methods)) != len(self.methods):
            raise ConfigError("prediction.methods", "lists a method twice")
        if self.horizon < 1:
            raise ConfigError("prediction.horizon", "must be at least 1")
        if self.entry_below <= 0:
            raise ConfigError("prediction.entry_below", "must be positive")
        for key in ("k", "trees", "ml_tasks", "sps_bootstrap"):
            if getattr(self, key) < 1:
                raise ConfigError(f"prediction.{key}", "must be at least 1")
        if self.sps_sigma <= 0:
            raise ConfigError("prediction.sps_sigma", "must be positive")


MATRIX_MODES = ("auto", "in_task", "distributed")


@dataclass(frozen=True)
class ExecutionConfig:
    """How a year's place x activity matrix is computed (docs/execution.md, "Which path")."""

    # in_task: one Spark task a year, dense numpy (BACI); distributed: Spark window
    # aggregations and distributed matrix updates (tall tables); auto: per year, from the
    # matrix's shape against the budget of a Python task (lib.execution.distributed.choice).
    matrix: Literal["auto", "in_task", "distributed"] = "auto"


@dataclass(frozen=True)
class SparkConfig:
    shuffle_partitions: int = 8

    def validate(self) -> None:
        if self.shuffle_partitions < 1:
            raise ConfigError("spark.shuffle_partitions", "must be at least 1")


@dataclass(frozen=True)
class ReportConfig:
    """The country report (jobs/report.py, docs/report.md)."""

    country: str = "GBR"  # ISO3
    compare: tuple[str, ...] = ("DEU", "FRA", "ITA", "USA", "JPN", "CAN")
    years: str = ""  # "1995-2010"; "" = every year with indicators
    sector_scheme: str = "goods15"  # goods15, hs_sections or a CSV path (hs2/hs4/hs6 -> sector)
    sector_column: str = ""  # sector column of a CSV scheme; "" = "sector" or its only column
    services: str = ""  # optional services exports CSV (country,year,category,value)
    adjacent_top: int = 20  # rows of the gained/lost and adjacent-products tables
    # The product space picture: links kept besides the maximum spanning tree (Hidalgo et al.
    # 2007: 0.55), and the most traded products drawn (a force layout of HS6 is unreadable).
    product_space_min_link: float = 0.55
    product_space_max_products: int = 1500

    def validate(self) -> None:
        for key, code in [("report.country", self.country)] + [
            ("report.compare", c) for c in self.compare
        ]:
            if len(code) != 3 or not code.isalpha():
                raise ConfigError(key, f"'{code}' is not an ISO3 country code such as GBR")
        parse_years(self.years, key="report.years")
        if not self.sector_scheme:
            raise ConfigError("report.sector_scheme", "must not be empty")
        if self.adjacent_top < 1:
            raise ConfigError("report.adjacent_top", "must be at least 1")
        if not 0 < self.product_space_min_link <= 1:
            raise ConfigError("report.product_space_min_link", "must be in (0, 1]")
        if self.product_space_max_products < 2:
            raise ConfigError("report.product_space_max_products", "must be at least 2")


def parse_years(spec: str, key: str = "years") -> list[int] | None:
    """``"1995-2010"`` -> [1995..2010]; ``"2001,2005"`` -> [2001, 2005]; ``""`` -> None (all)."""
    spec = spec.strip()
    if not spec:
        return None
    years: set[int] = set()
    for part in spec.split(","):
        bounds = part.strip().split("-", 1)
        try:
            first, last = int(bounds[0]), int(bounds[-1])
        except ValueError as exc:
            raise ConfigError(
                key, f"'{spec}' is not a year list such as 1995-2010 or 2001,2005"
            ) from exc
        if first > last:
            raise ConfigError(key, f"range {part.strip()} runs backwards")
        years.update(range(first, last + 1))
    if any(y < 1900 or y > 2100 for y in years):
        raise ConfigError(key, f"years must lie between 1900 and 2100, got '{spec}'")
    return sorted(years)
