"""The optional services trade file, and goods + services sector exports.

BACI covers goods only, yet the report's first figures (3.1-3.7) set goods sectors next to
service categories. A user can add a CSV of services exports (format in ``docs/report.md``):

    country,year,category,value          ISO3, year, service category, thousands of USD

Goods and services RCA are then computed together over the countries that report services in a
year: a country without services data would otherwise look specialised in goods. So the "world"
of the combined RCA is the set of countries in the services file for that year (documented; the
goods-only ``sector_year`` rows keep the whole BACI world).

Must not mix services into the goods indicators: services appear only in the report's sector
figures.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.report.countries import resolve_countries

COLUMNS = ("country", "year", "category", "value")
GOODS = "Goods"
SERVICES = "Services"


class ServicesFileError(ValueError):
    """A services file that cannot be used; raised before any Spark work."""


def read_services_csv(path: str | Path) -> pd.DataFrame:
    """Read and check the file: lines starting with ``#`` are comments."""
    path = Path(path)
    if not path.is_file():
        raise ServicesFileError(f"services file not found: {path}")
    frame = pd.read_csv(path, comment="#", dtype={"country": str, "category": str})
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ServicesFileError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}"
        )
    frame = frame[list(COLUMNS)].copy()
    frame["country"] = frame.country.str.strip().str.upper()
    frame["category"] = frame.category.str.strip()
    for column in ("year", "value"):
        numbers = pd.to_numeric(frame[column], errors="coerce")
        if numbers.isna().any():
            row = int(numbers.isna().idxmax())
            raise ServicesFileError(f"{path}: '{column}' is not a number in data row {row + 1}")
        frame[column] = numbers
    if (frame.value < 0).any():
        raise ServicesFileError(f"{path}: values must not be negative")
    frame["year"] = frame.year.astype(int)
    duplicated = frame.duplicated(["country", "year", "category"])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise ServicesFileError(
            f"{path}: {first.country} {first.year} '{first.category}' appears more than once"
        )
    return frame.reset_index(drop=True)


def services_with_codes(
    services: pd.DataFrame, countries: pd.DataFrame, activity: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Attach BACI country codes; rows of ISO3 codes unknown to the warehouse are dropped.

    WHY drop rather than fail: a services file usually covers more countries than one BACI
    extract; the report countries themselves are checked strictly elsewhere. The dropped ISO3
    codes are returned so the caller can say so.
    """
    known = set(countries.iso3.dropna().str.upper())
    unknown = sorted(set(services.country) - known)
    kept = services[services.country.isin(known)]
    iso3s = sorted(kept.country.unique())
    codes = {c.iso3: c.code for c in resolve_countries(iso3s, countries, activity)}
    return kept.assign(country_code=kept.country.map(codes)), unknown


def services_exports(spark: SparkSession, services: pd.DataFrame) -> DataFrame:
    """(year, country_code, sector, export_value, sector_kind='services')."""
    rows = services.rename(columns={"category": "sector", "value": "export_value"})[
        ["year", "country_code", "sector", "export_value"]
    ]
    schema = "year int, country_code int, sector string, export_value double"
    return spark.createDataFrame(rows, schema).withColumn("sector_kind", F.lit("services"))


def combined_exports(goods: DataFrame, services: DataFrame) -> DataFrame:
    """Goods sectors + service categories, for the country-years that report services."""
    reporting = services.select("year", "country_code").distinct()
    goods = goods.join(reporting, ["year", "country_code"]).withColumn(
        "sector_kind", F.lit("goods")
    )
    columns = ["year", "country_code", "sector", "export_value", "sector_kind"]
    return goods.select(*columns).unionByName(services.select(*columns))


def goods_services_totals(combined: DataFrame) -> DataFrame:
    """Two "sectors" per country-year, Goods and Services: figures 3.5 and 3.7."""
    return combined.groupBy(
        "year",
        "country_code",
        F.when(F.col("sector_kind") == "goods", F.lit(GOODS))
        .otherwise(F.lit(SERVICES))
        .alias("sector"),
        "sector_kind",
    ).agg(F.sum("export_value").alias("export_value"))
