"""The optional country attributes input: population and GDP per capita by country and year.

A CSV with a header and the columns ``country,year,population,gdp_per_capita`` (any order,
other columns ignored): ``country`` an ISO3 code (``GBR``; case ignored) or a BACI numeric
code, ``year`` an integer, the two values non-negative numbers or empty (unknown).
docs/configuration.md ("Country attributes") says where to get the World Bank's series and how to shape them.

Bad lines stop the run with the file and line number (a duplicate country-year, a value that is
not a number, a negative value, a missing column). Rows whose country is not in the release's
code list (World Bank aggregates such as ``WLD`` or ``EUU``) are not used and are reported by
``CountryAttributes.unmatched``, never dropped silently.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

COLUMNS = ("country", "year", "population", "gdp_per_capita")


class CountryAttributesError(ValueError):
    """A bad line or file, with its name and line number."""


@dataclass(frozen=True)
class CountryAttributes:
    """The rows matched to BACI codes: year, country_code, population, gdp_per_capita (NaN where
    unknown); and the codes of the file that match no country of the release."""

    rows: pd.DataFrame
    unmatched: tuple[str, ...] = field(default_factory=tuple)

    def year(self, year: int, countries) -> tuple[pd.Series, pd.Series]:
        """Population and GDP per capita of ``countries`` (codes) in ``year``, NaN if unknown."""
        rows = self.rows[self.rows["year"] == year].set_index("country_code")
        return (
            rows["population"].reindex(countries).astype(float),
            rows["gdp_per_capita"].reindex(countries).astype(float),
        )


def read_country_attributes(path: str | Path, codes: pd.DataFrame) -> CountryAttributes:
    """Read and check the CSV; ``codes`` has the release's ``country_code`` and ``iso3``."""
    path = Path(path)
    if not path.exists():
        raise CountryAttributesError(f"{path}: country attributes file not found")
    by_iso3 = {
        str(iso).upper(): int(code)
        for code, iso in zip(codes["country_code"], codes["iso3"], strict=True)
        if isinstance(iso, str) and iso
    }
    known = {int(c) for c in codes["country_code"]}
    records, unmatched, seen = [], set(), {}
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CountryAttributesError(
                f"{path}, line 1: missing column(s) {', '.join(missing)}; the header must "
                f"name {', '.join(COLUMNS)}"
            )
        for line, row in enumerate(reader, start=2):
            country = (row["country"] or "").strip()
            year = _number(path, line, "year", row["year"], integer=True)
            code = _code(country, by_iso3, known)
            if code is None:
                unmatched.add(country)
                continue
            if (code, year) in seen:
                raise CountryAttributesError(
                    f"{path}, line {line}: {country} {year} already given on line "
                    f"{seen[(code, year)]}"
                )
            seen[(code, year)] = line
            records.append(
                (
                    year,
                    code,
                    _number(path, line, "population", row["population"]),
                    _number(path, line, "gdp_per_capita", row["gdp_per_capita"]),
                )
            )
    rows = pd.DataFrame(records, columns=["year", "country_code", "population", "gdp_per_capita"])
    return CountryAttributes(rows, tuple(sorted(unmatched)))


def _code(country: str, by_iso3: dict[str, int], known: set[int]) -> int | None:
    if country.isdigit():
        return int(country) if int(country) in known else None
    return by_iso3.get(country.upper())


def _number(path: Path, line: int, column: str, raw: str | None, integer: bool = False):
    text = (raw or "").strip()
    if not text and not integer:
        return math.nan  # unknown
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise CountryAttributesError(
            f"{path}, line {line}: {column} '{text}' is not a {'year' if integer else 'number'}"
        ) from None
    if not integer and (value < 0 or not math.isfinite(value)):
        raise CountryAttributesError(
            f"{path}, line {line}: {column} {text} must be a non-negative number"
        )
    return value


def load_country_attributes(path: str | None, countries) -> CountryAttributes | None:
    """The configured input (``input.country_attributes``: ``path``), matched to the release's
    codes (the ``baci_countries`` rows: country_code, iso3); None without one. The codes that
    match nothing are printed, so that none is dropped unseen."""
    if not path:
        return None
    codes = countries[["country_code", "iso3"]]
    attributes = read_country_attributes(path, codes)
    if attributes.unmatched:
        shown = ", ".join(attributes.unmatched[:12])
        more = len(attributes.unmatched) - 12
        print(
            f"country attributes: {len(attributes.unmatched)} codes of {path} match no country "
            f"of the release and are not used ({shown}{f', ... {more} more' if more > 0 else ''})"
        )
    return attributes
