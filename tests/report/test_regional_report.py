"""lib.report.regional on small frames (no Spark): the group LQ against a direct computation,
the rankings, and the SYNTHETIC mark on every drawn figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.report.regional import (
    ADJACENT,
    GROUP_LQ,
    SPECIALISATIONS,
    SYNTHETIC_LABEL,
    RegionalInputs,
    RegionalReportError,
    build_report,
)


def _inputs(synthetic: bool, classification: str = "SIC 2007 division") -> RegionalInputs:
    rng = np.random.default_rng(4)
    places = pd.DataFrame({"place": ["P1", "P2", "P3"], "place_name": ["A", "B", None]})
    activities = pd.DataFrame(
        {
            "activity": ["10", "11", "62", "64"],
            "activity_name": ["Food", "Drinks", "Software", "Banks"],
            "parent_activity": ["C", "C", "J", "K"],
        }
    )
    rows = []
    for year in (2020, 2021):
        for c in places["place"]:
            for p in activities["activity"]:
                value = float(rng.integers(1, 100))
                rows.append((year, c, p, value, rng.random() * 2, rng.random()))
    grid = pd.DataFrame(
        rows, columns=["year", "place", "activity", "export_value", "rca", "density"]
    )
    grid["mcp"] = (grid["rca"] >= 1).astype(int)
    grid["cog"] = 0.0
    place_year = grid.groupby(["year", "place"], as_index=False).size()
    place_year = place_year.assign(fitness=1.0, fitness_rank=1, eci=0.0, eci_rank=1)
    structure = place_year[["year", "place"]].assign(
        specialisations=1, krugman_index=0.1, herfindahl_index=0.3, shannon_entropy=1.5
    )
    dataset = {
        "dataset": "t",
        "place_kind": "region",
        "activity_classification": classification,
        "synthetic": synthetic,
        "note": "made up",
    }
    return RegionalInputs(dataset, places, activities, grid, place_year, structure)


def test_group_lq_and_rankings():
    inputs = _inputs(synthetic=False)
    report = build_report(inputs, top=2)
    lq = report.tables[GROUP_LQ]
    for year, rows in inputs.grid.groupby("year"):
        group = rows[rows["activity"].isin(["10", "11"])].groupby("place")["export_value"]
        total = rows.groupby("place")["export_value"].sum()
        expected = (group.sum() / total) / (group.sum().sum() / total.sum())
        got = lq[lq.year == year].set_index("place")["lq"]
        np.testing.assert_allclose(got.loc[expected.index], expected, rtol=1e-12)
    assert set(lq["place_name"]) == {"A", "B", "P3"}  # the code where no name is given
    spec = report.tables[SPECIALISATIONS]
    assert (spec.lq >= 1).all() and (spec.year == 2021).all() and spec["rank"].max() <= 2
    adjacent = report.tables[ADJACENT]
    for _, rows in adjacent.groupby("place"):
        assert list(rows.sort_values("rank").density) == sorted(rows.density, reverse=True)
    assert not any(SYNTHETIC_LABEL in t.get_text() for f in report.figures for t in f.figure.texts)


def test_synthetic_marked_and_group_defaults():
    report = build_report(_inputs(synthetic=True))
    drawn = [f for f in report.figures if f.figure is not None]
    assert len(drawn) == 5
    for item in drawn:
        assert any(t.get_text() == SYNTHETIC_LABEL for t in item.figure.texts), item.name
    assert report.notes[0].startswith(SYNTHETIC_LABEL)
    # no default group for an unknown classification: figure 4.1 skipped with a note
    plain = build_report(_inputs(synthetic=False, classification="SITC"))
    assert GROUP_LQ not in plain.tables and "--group" in plain.notes[0]
    chosen = build_report(_inputs(synthetic=False, classification="SITC"), groups=["J", "K"])
    assert set(chosen.tables[GROUP_LQ]["activity_group"]) == {"J+K"}
    with pytest.raises(RegionalReportError, match="choose --group"):
        build_report(_inputs(synthetic=False), groups=["Z"])
