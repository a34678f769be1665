"""ISO3 -> BACI code, with repeated ISO3 codes resolved by the data."""

from __future__ import annotations

import pandas as pd
import pytest

from lib.report.countries import CountryError, parse_iso3_list, require_activity, resolve_countries

COUNTRIES = pd.DataFrame(
    {
        "country_code": [276, 280, 826, 56, 58],
        "iso3": ["DEU", "DEU", "GBR", "BEL", "BEL"],
        "country_name": [
            "Germany",
            "Fed. Rep. of Germany (...1990)",
            "United Kingdom",
            "Belgium",
            "Belgium-Luxembourg (...1998)",
        ],
    }
)


def test_parse_iso3_list():
    assert parse_iso3_list("deu, FRA,,DEU") == ["DEU", "FRA"]
    with pytest.raises(CountryError, match="'UK' is not an ISO3"):
        parse_iso3_list("UK")


def test_repeated_iso3_prefers_the_code_with_exports():
    activity = pd.DataFrame({"country_code": [58, 58, 56], "export_value": [5.0, 5.0, 1.0]})
    deu, bel = resolve_countries(["DEU", "BEL"], COUNTRIES, activity)
    assert (deu.code, deu.name) == (
        276,
        "Germany",
    )  # no activity: the current code, not "(...1990)"
    assert bel.code == 58  # Belgium-Luxembourg has the exports in these (old) years
    assert resolve_countries(["BEL"], COUNTRIES)[0].code == 56


def test_unknown_country_suggests_close_codes():
    with pytest.raises(CountryError, match=r"unknown country 'GBX'.*did you mean GBR"):
        resolve_countries(["GBX"], COUNTRIES)


def test_report_country_needs_exports():
    gbr = resolve_countries(["GBR"], COUNTRIES)[0]
    with pytest.raises(CountryError, match="GBR .* has no exports"):
        require_activity(gbr, pd.DataFrame({"country_code": [276], "export_value": [1.0]}), [2001])
