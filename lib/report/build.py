"""Computes and writes the report's Delta tables (Spark): the only module with side effects.

Each table is replaced only for the slice this run computed (``replaceWhere``): other years,
other sector schemes and other report countries written by earlier runs stay, so BI tools can
accumulate reports in one warehouse.

Must not draw figures: they come from ``lib.report.figures``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.classifications.sectors import SectorMapping, sector_exports, sector_rca
from lib.io import delta
from lib.report import analyses, services
from lib.report.frames import GOODS_SERVICES_SCHEME, ReportParams
from lib.report.nestedness import nestedness_year
from lib.run.config import Config
from lib.tables import report as tables


@dataclass(frozen=True)
class ReportTable:
    name: str
    df: DataFrame
    replace_where: str


def _sql_list(values) -> str:
    return ", ".join(
        "'" + str(v).replace("'", "''") + "'" if isinstance(v, str) else str(v) for v in values
    )


def report_tables(
    spark: SparkSession,
    warehouse: str,
    config: Config,
    params: ReportParams,
    mapping: SectorMapping,
    services_frame: pd.DataFrame | None = None,
) -> list[ReportTable]:
    """Every report table as a DataFrame with the slice it replaces (nothing written yet)."""
    years = list(params.years)
    ends = sorted({params.year_from, params.year_to})
    in_years = delta.year_predicate(years)
    codes = params.codes
    read = lambda name: delta.read_table(spark, warehouse, name)  # noqa: E731
    flows = read(delta.FLOWS).where(F.col("year").isin(years))
    country_year, product_year = read(delta.COUNTRY_YEAR), read(delta.PRODUCT_YEAR)
    cpy = read(delta.COUNTRY_PRODUCT_YEAR).where(F.col("year").isin(years))
    names = analyses.country_names(read(delta.COUNTRIES))

    schemes = [mapping.scheme, params.services_scheme, GOODS_SERVICES_SCHEME]
    sector_where = f"sector_scheme IN ({_sql_list(schemes)}) AND {in_years}"
    return [
        ReportTable(
            tables.SECTOR_YEAR,
            _sector_year(flows, mapping, config, services_frame, params).join(
                F.broadcast(names), "country_code", "left"
            ),
            sector_where,
        ),
        ReportTable(
            tables.COUNTRY_TREND_YEAR,
            analyses.country_trends(country_year, product_year, years),
            in_years,
        ),
        ReportTable(
            tables.COUNTRY_PRODUCTS_CHANGE,
            analyses.products_change(cpy, country_year, product_year, ends[0], ends[-1]),
            f"year_from = {ends[0]} AND year_to = {ends[-1]}",
        ),
        ReportTable(
            tables.SPECTROGRAPH,
            analyses.spectrograph(cpy, product_year, names, codes, ends),
            f"{delta.year_predicate(ends)} AND country_code IN ({_sql_list(codes)})",
        ),
        ReportTable(
            tables.NESTED_MATRIX,
            analyses.nested_matrix(cpy, country_year, product_year, years),
            in_years,
        ),
        ReportTable(tables.NESTEDNESS_YEAR, nestedness_year(cpy, years), in_years),
        ReportTable(
            tables.ADJACENT_PRODUCTS,
            analyses.adjacent_products(cpy, product_year, names, codes, years),
            f"{in_years} AND country_code IN ({_sql_list(codes)})",
        ),
    ]


def _sector_year(
    flows: DataFrame,
    mapping: SectorMapping,
    config: Config,
    services_frame: pd.DataFrame | None,
    params: ReportParams,
) -> DataFrame:
    goods = sector_exports(flows, mapping, config.products)
    result = sector_rca(goods, mapping.scheme, config.rca)
    if services_frame is not None:
        in_years = services_frame[services_frame.year.isin(params.years)]
        service_rows = services.services_exports(flows.sparkSession, in_years)
        combined = services.combined_exports(goods, service_rows)
        result = result.unionByName(
            sector_rca(combined, params.services_scheme, config.rca)
        ).unionByName(
            sector_rca(services.goods_services_totals(combined), GOODS_SERVICES_SCHEME, config.rca)
        )
    return result


def write_report_tables(items: list[ReportTable], warehouse: str, run_id: str) -> None:
    for item in items:
        delta.write_table(item.df, warehouse, item.name, run_id, replace_where=item.replace_where)
