"""The report's tables as pandas frames, read with Spark (the job) or with delta-rs (notebooks).

WHY one loader behind a reader function: the job and ``notebooks/country_report.ipynb`` must draw
the same figures from the same rows. Both call :func:`load_frames`; only the reader differs
(``spark_reader`` after the job wrote the tables, ``deltalake_reader`` without Spark). Filters
are conjunctions of ``(column, op, value)`` with op ``=`` or ``in``, understood by both.

Must not compute indicators: it reads rows and shapes frames for the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from lib.datasets.provenance import DataSource, data_source
from lib.report.countries import Country, parse_iso3_list, require_activity, resolve_countries
from lib.tables import report as tables

Filter = tuple[str, str, Any]
Reader = Callable[[str, list[Filter]], pd.DataFrame]

COUNTRIES = "baci_countries"
COUNTRY_YEAR = "country_year"
RUN_LOG = "run_log"
COUNTRY_PRODUCT_YEAR = "country_product_year"
PRODUCT_YEAR = "product_year"
OPPORTUNITIES = "product_opportunities"
BACKTEST = "prediction_backtest"
BACKTEST_PLACE = "prediction_backtest_place"
SERVICES_SUFFIX = "+services"
GOODS_SERVICES_SCHEME = "goods_services"


class ReportInputError(ValueError):
    """Missing tables or years: the message says which job to run first."""


@dataclass(frozen=True)
class ReportParams:
    country: Country
    compare: tuple[Country, ...]
    years: tuple[int, ...]
    sector_scheme: str
    adjacent_top: int = 20
    notes: tuple[str, ...] = field(default_factory=tuple)  # warnings to show on the page
    source: DataSource = DataSource((), None)  # real or synthetic: labels the page and figures

    @property
    def year_from(self) -> int:
        return self.years[0]

    @property
    def year_to(self) -> int:
        return self.years[-1]

    @property
    def countries(self) -> tuple[Country, ...]:
        return (self.country, *self.compare)

    @property
    def codes(self) -> list[int]:
        return [c.code for c in self.countries]

    @property
    def services_scheme(self) -> str:
        return self.sector_scheme + SERVICES_SUFFIX

    def with_note(self, note: str) -> ReportParams:
        return replace(self, notes=(*self.notes, note)) if note else self


@dataclass
class ReportFrames:
    sectors: pd.DataFrame  # sector_year: the report countries, every scheme of the report
    trends: pd.DataFrame  # country_trend_year: the report countries
    changes: pd.DataFrame  # country_products_change: year_from -> year_to, the report countries
    spectrograph: pd.DataFrame  # the report countries, year_from and year_to
    nested: pd.DataFrame  # nested_matrix, year_to
    nestedness: pd.DataFrame  # nestedness_year, every report year
    adjacent: pd.DataFrame  # adjacent_products: the report country, year_to
    # Every country's yearly rows (Fitness-GDP plane), every report year.
    world: pd.DataFrame = field(default_factory=pd.DataFrame)
    # country_product_year and product_year of year_to (product space, export treemap).
    grid: pd.DataFrame = field(default_factory=pd.DataFrame)
    products: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The prediction tables (empty if the run had none): the report country's opportunities
    # of year_to, every backtest row, the report country's backtest rows.
    opportunities: pd.DataFrame = field(default_factory=pd.DataFrame)
    backtest: pd.DataFrame = field(default_factory=pd.DataFrame)
    backtest_place: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def has_services(self) -> bool:
        return bool(self.sectors.sector_scheme.str.endswith(SERVICES_SUFFIX).any())


def is_local(warehouse: str) -> bool:
    """A plain path (delta-rs reads it directly); Hadoop URIs such as s3a:// go through Spark."""
    return "://" not in warehouse or warehouse.startswith("file://")


def deltalake_reader(warehouse: str) -> Reader:
    """Read a table without Spark (delta-rs): for notebooks and the job's pre-Spark checks."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    def read(name: str, filters: list[Filter]) -> pd.DataFrame:
        path = f"{warehouse.rstrip('/')}/{name}"
        try:
            table = DeltaTable(path)
        except TableNotFoundError as exc:
            raise ReportInputError(_missing_table(name, warehouse)) from exc
        return table.to_pandas(filters=_deltalake_filters(filters) or None)

    return read


def spark_reader(spark: Any, warehouse: str) -> Reader:
    """Read a table with Spark (any Hadoop URI) and bring the filtered rows to the driver."""
    from pyspark.sql import functions as F

    from lib.io.delta import read_table, table_exists

    def read(name: str, filters: list[Filter]) -> pd.DataFrame:
        if not table_exists(spark, warehouse, name):
            raise ReportInputError(_missing_table(name, warehouse))
        df = read_table(spark, warehouse, name)
        for column, op, value in filters:
            df = df.where(F.col(column).isin(list(value)) if op == "in" else F.col(column) == value)
        return df.toPandas()

    return read


def _deltalake_filters(filters: list[Filter]) -> list[Filter]:
    return [(c, op, list(v) if op == "in" else v) for c, op, v in filters]


def _missing_table(name: str, warehouse: str) -> str:
    job = "jobs/report.py" if name in tables.REPORT_TABLES else "jobs/fitness.py"
    return f"no {name} table under {warehouse}: run {job} for this warehouse first"


def resolve_params(
    read: Reader,
    country: str,
    compare: str | Sequence[str],
    years: Sequence[int] | None,
    sector_scheme: str,
    adjacent_top: int = 20,
) -> ReportParams:
    """ISO3 codes and years -> checked parameters, from ``baci_countries`` and ``country_year``.

    Years asked but without indicators are dropped with a note; none left is an error. Comparison
    countries without exports in those years are dropped with a note; the report country is
    required.
    """
    main_iso3 = parse_iso3_list([country])[0]
    others = [c for c in parse_iso3_list(compare) if c != main_iso3]
    activity = read(COUNTRY_YEAR, [])[["year", "country_code", "export_value"]]
    available = sorted(int(y) for y in activity.year.unique())
    if not available:
        raise ReportInputError("country_year is empty: run jobs/fitness.py first")
    chosen = [y for y in available if years is None or y in set(years)]
    if not chosen:
        raise ReportInputError(
            f"no indicators for the years asked ({_span(years)}); country_year has {_span(available)}"
        )
    notes = []
    if years is not None and len(chosen) < len(set(years)):
        notes.append(f"Years without indicators were skipped; the report covers {_span(chosen)}.")
    activity = activity[activity.year.isin(chosen)]
    names = read(COUNTRIES, [])
    resolved = resolve_countries([main_iso3, *others], names, activity)
    require_activity(resolved[0], activity, chosen)
    kept = []
    for other in resolved[1:]:
        if (activity[activity.country_code == other.code].export_value > 0).any():
            kept.append(other)
        else:
            notes.append(f"{other.iso3} has no exports in {_span(chosen)} and was left out.")
    return ReportParams(
        resolved[0],
        tuple(kept),
        tuple(chosen),
        sector_scheme,
        adjacent_top,
        tuple(notes),
        read_data_source(read, names),
    )


def read_data_source(read: Reader, countries: pd.DataFrame | None = None) -> DataSource:
    """Real or synthetic, from the releases of ``baci_countries`` and the run log's record."""
    if countries is None:
        countries = read(COUNTRIES, [])
    try:
        log = read(RUN_LOG, [])
    except ReportInputError:
        log = pd.DataFrame()
    logged = (
        list(zip(log["baci_release"], log["source_kind"], strict=True))
        if {"baci_release", "source_kind"} <= set(log.columns)
        else []
    )
    return data_source(countries["release"].dropna().unique().tolist(), logged)


def _span(years: Sequence[int] | None) -> str:
    if not years:
        return "every year"
    years = sorted(years)
    return f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])


def _optional(read: Reader, name: str, filters: list[Filter]) -> pd.DataFrame:
    """A table a run may not have written (the prediction tables): empty if missing."""
    try:
        return read(name, filters)
    except ReportInputError:
        return pd.DataFrame()


def load_frames(read: Reader, params: ReportParams) -> ReportFrames:
    """The rows every figure of the report needs (small: the report countries, a few years)."""
    years = list(params.years)
    ends = sorted({params.year_from, params.year_to})
    codes = params.codes
    schemes = [params.sector_scheme, params.services_scheme, GOODS_SERVICES_SCHEME]
    sectors = read(
        tables.SECTOR_YEAR,
        [("sector_scheme", "in", schemes), ("country_code", "in", codes), ("year", "in", years)],
    )
    return ReportFrames(
        sectors=sectors,
        trends=read(
            tables.COUNTRY_TREND_YEAR, [("country_code", "in", codes), ("year", "in", years)]
        ),
        changes=read(
            tables.COUNTRY_PRODUCTS_CHANGE,
            [
                ("year_from", "=", params.year_from),
                ("year_to", "=", params.year_to),
                ("country_code", "in", codes),
            ],
        ),
        spectrograph=read(
            tables.SPECTROGRAPH, [("country_code", "in", codes), ("year", "in", ends)]
        ),
        nested=read(tables.NESTED_MATRIX, [("year", "=", params.year_to)]),
        nestedness=read(tables.NESTEDNESS_YEAR, [("year", "in", years)]),
        adjacent=read(
            tables.ADJACENT_PRODUCTS,
            [("country_code", "=", params.country.code), ("year", "=", params.year_to)],
        ),
        world=read(COUNTRY_YEAR, [("year", "in", years)]),
        grid=read(COUNTRY_PRODUCT_YEAR, [("year", "=", params.year_to)]),
        products=read(PRODUCT_YEAR, [("year", "=", params.year_to)]),
        opportunities=_optional(
            read,
            OPPORTUNITIES,
            [("country_code", "=", params.country.code), ("year", "=", params.year_to)],
        ),
        backtest=_optional(read, BACKTEST, []),
        backtest_place=_optional(
            read, BACKTEST_PLACE, [("country_code", "=", params.country.code)]
        ),
    )
