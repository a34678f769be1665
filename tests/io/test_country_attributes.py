"""lib.io.country_attributes: the CSV read, matched to the release's codes, and its errors."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lib.io.country_attributes import CountryAttributesError, read_country_attributes

CODES = pd.DataFrame({"country_code": [826, 251, 842], "iso3": ["GBR", "FRA", "USA"]})


def _write(tmp_path, text: str):
    path = tmp_path / "attributes.csv"
    path.write_text(text)
    return path


def test_reads_iso3_and_codes_and_reports_unmatched(tmp_path):
    path = _write(
        tmp_path,
        "country,year,population,gdp_per_capita,extra\n"
        "gbr,2019,66800000,42300,x\n"
        "251,2019,67200000,,y\n"
        "WLD,2019,7700000000,11400,z\n"
        "USA,2019,,65100,w\n",
    )
    got = read_country_attributes(path, CODES)
    rows = got.rows.set_index("country_code")
    assert rows.loc[826, "population"] == 66_800_000 and rows.loc[826, "gdp_per_capita"] == 42_300
    assert math.isnan(rows.loc[251, "gdp_per_capita"]) and math.isnan(rows.loc[842, "population"])
    assert got.unmatched == ("WLD",)
    population, gdp = got.year(2019, [842, 826, 4])
    assert math.isnan(population.iloc[0]) and gdp.iloc[1] == 42_300 and math.isnan(gdp.iloc[2])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("country,year,population\nGBR,2019,1\n", "line 1: missing column(s) gdp_per_capita"),
        ("country,year,population,gdp_per_capita\nGBR,2019,lots,1\n", "line 2: population 'lots'"),
        ("country,year,population,gdp_per_capita\nGBR,20x9,1,1\n", "line 2: year '20x9'"),
        ("country,year,population,gdp_per_capita\nGBR,2019,1,-5\n", "line 2: gdp_per_capita -5"),
        (
            "country,year,population,gdp_per_capita\nGBR,2019,1,1\nFRA,2019,1,1\ngbr,2019,2,2\n",
            "line 4: gbr 2019 already given on line 2",
        ),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(
        CountryAttributesError,
        match=f"attributes.csv, {message}".replace("(", r"\(").replace(")", r"\)"),
    ):
        read_country_attributes(path, CODES)
