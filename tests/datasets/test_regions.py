"""The synthetic UK regional data: shape, labels, and the broad public facts it is calibrated to
(IPPR 2014 figure 4.1's manufacturing order; finance and information in London)."""

from __future__ import annotations

import pandas as pd
import pytest

from lib.datasets.regions import (
    FILE_NAME,
    SYNTHETIC_NOTE,
    generate_uk_regions,
    itl1_regions,
    sic2007_divisions,
    write_uk_regions,
)
from lib.measures.regional import location_quotient

# Figure 4.1 (Campos and Prothero 2012), highest manufacturing LQ first (Great Britain).
FIGURE_4_1 = [
    "East Midlands",
    "West Midlands",
    "Wales",
    "Yorkshire and The Humber",
    "North West",
    "North East",
    "South West",
    "East of England",
    "Scotland",
    "South East",
    "London",
]


@pytest.fixture(scope="module")
def data():
    return generate_uk_regions()


def _section_lq(data: pd.DataFrame, year: int) -> pd.DataFrame:
    year_rows = data[data["year"] == year]
    by_section = year_rows.pivot_table(
        index="place_name", columns="parent_activity", values="value", aggfunc="sum", fill_value=0
    )
    return pd.DataFrame(
        location_quotient(by_section.to_numpy()), by_section.index, by_section.columns
    )


def test_tables_and_shape(data):
    divisions, regions = sic2007_divisions(), itl1_regions()
    assert len(divisions) == 88 and divisions["section"].nunique() == 21
    assert divisions["division"].is_unique and (divisions["division"].str.len() == 2).all()
    assert len(regions) == 12 and regions["itl1"].str.match(r"^TL[C-N]$").all()
    assert set(data["place"]) == set(regions["itl1"])
    assert set(data["activity"]) <= set(divisions["division"])
    assert not data.duplicated(["year", "place", "activity"]).any()
    assert (data["value"] >= 5).all() and (data["value"] % 5 == 0).all()
    per_year = data.groupby("year")["value"].sum()
    assert per_year.between(25e6, 35e6).all()  # UK employees, order of magnitude
    pd.testing.assert_frame_equal(data, generate_uk_regions())  # deterministic


def test_calibrated_to_public_facts(data):
    for year in sorted(data["year"].unique()):
        lq = _section_lq(data, year)
        manufacturing = lq["C"].drop("Northern Ireland")
        top_two = set(manufacturing.sort_values(ascending=False).index[:2])
        assert top_two == {"East Midlands", "West Midlands"}, year
        assert manufacturing.idxmin() == "London"
        rank_corr = (
            manufacturing.loc[FIGURE_4_1]
            .rank()
            .corr(pd.Series(range(len(FIGURE_4_1), 0, -1), index=FIGURE_4_1), method="spearman")
        )
        assert rank_corr > 0.9, (year, rank_corr)
        assert lq["K"].idxmax() == "London" and lq["J"].idxmax() == "London"
        assert lq["B"].idxmax() == "Scotland"


def test_written_file_is_labelled_synthetic(tmp_path):
    path = write_uk_regions(tmp_path, years=(2020,))
    assert path.name == FILE_NAME and "SYNTHETIC" in path.name
    assert "SYNTHETIC" in SYNTHETIC_NOTE and (tmp_path / "README.txt").read_text().startswith(
        "SYNTHETIC"
    )
    assert set(pd.read_csv(path, dtype={"activity": str})["year"]) == {2020}
