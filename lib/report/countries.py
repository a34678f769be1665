"""Countries named by ISO3 -> BACI country codes.

Users think in ISO3; the tables key on BACI's numeric codes. An ISO3 can name several BACI codes
(DEU: 276 Germany and 280 "Fed. Rep. of Germany (...1990)"; BEL 56/58; SDN 729/736), so the code
that actually has exports in the years asked wins. Everything here is pandas on small tables, so
a bad country stops the job before Spark starts.

Must not read tables: it resolves names against the code list it is given.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd


class CountryError(ValueError):
    """An unknown or inactive country, with a message the user can act on."""


@dataclass(frozen=True)
class Country:
    code: int
    iso3: str
    name: str

    @property
    def label(self) -> str:
        return self.name or self.iso3


def parse_iso3_list(text: str | Iterable[str]) -> list[str]:
    """``"DEU, fra"`` -> ``["DEU", "FRA"]`` (order kept, duplicates dropped)."""
    items = text.split(",") if isinstance(text, str) else list(text)
    codes = [item.strip().upper() for item in items if item.strip()]
    for code in codes:
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise CountryError(f"'{code}' is not an ISO3 country code such as GBR or DEU")
    return list(dict.fromkeys(codes))


def resolve_countries(
    iso3s: Iterable[str],
    countries: pd.DataFrame,
    activity: pd.DataFrame | None = None,
) -> list[Country]:
    """Resolve each ISO3 against ``countries`` (country_code, iso3, country_name).

    ``activity`` (country_code, export_value), summed over the report years, breaks ties between
    codes sharing an ISO3: the code with the largest exports wins.
    """
    totals = (
        activity.groupby("country_code").export_value.sum()
        if activity is not None and len(activity)
        else pd.Series(dtype=float)
    )
    table = countries.assign(iso3=countries.iso3.fillna("").str.upper())
    resolved = []
    for iso3 in iso3s:
        candidates = table[table.iso3 == iso3]
        if candidates.empty:
            raise CountryError(_unknown_message(iso3, table))
        ranked = candidates.assign(
            _exports=candidates.country_code.map(totals).fillna(0.0),
            _historic=candidates.country_name.fillna("").str.contains(r"\(\.\.\.", regex=True),
        ).sort_values(["_exports", "_historic", "country_code"], ascending=[False, True, True])
        best = ranked.iloc[0]
        resolved.append(Country(int(best.country_code), iso3, str(best.country_name or iso3)))
    return resolved


def require_activity(country: Country, activity: pd.DataFrame, years: list[int]) -> None:
    """The report country must have exports in the years asked, else nothing can be drawn."""
    exported = activity[(activity.country_code == country.code) & (activity.export_value > 0)]
    if exported.empty:
        raise CountryError(
            f"{country.iso3} ({country.label}, BACI code {country.code}) has no exports in "
            f"country_year for {years[0]}-{years[-1]}"
        )


def _unknown_message(iso3: str, table: pd.DataFrame) -> str:
    close = difflib.get_close_matches(iso3, sorted(set(table.iso3) - {""}), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown country '{iso3}': no such ISO3 in baci_countries{hint}"
