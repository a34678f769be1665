"""The SYNTHETIC tall place x activity table: shape, density, determinism, nestedness, label.

The job's run on it (and its equality with the sparse references) is in
tests/run/test_tall_table.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from lib.datasets.provenance import TABLE_MARKER, marked_synthetic
from lib.datasets.synthetic import tall
from lib.datasets.synthetic.tall import TallSpec, generate_tall
from lib.io.place_activity import read_place_activity

SPEC = TallSpec(places=3000, activities=200, density=0.03, years=(2019, 2020), seed=5)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    out = tmp_path_factory.mktemp("tall")
    counts = generate_tall(SPEC, out)
    return out, counts, pq.read_table(out).to_pandas()


def _presence(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(one=1).pivot_table(
        index="place", columns="activity", values="one", fill_value=0
    )


def test_shape_and_layout(table):
    out, counts, rows = table
    assert sorted(p.name for p in out.glob("tall_*.parquet")) == [
        "tall_2019.parquet",
        "tall_2020.parquet",
    ]
    assert list(rows.columns) == ["place", "activity", "year", "value"]
    for year, part in rows.groupby("year"):
        assert part["place"].nunique() == SPEC.places  # every place every year
        assert set(part["activity"]) <= set(tall.activity_codes(SPEC.activities))
        assert part["activity"].nunique() > 0.7 * SPEC.activities
        assert not part.duplicated(["place", "activity"]).any()
        assert counts["rows"][year] == len(part)
    assert (rows["value"] > 0).all() and np.isfinite(rows["value"]).all()
    assert set(rows["place"]) == set(tall.place_code(np.arange(SPEC.places)))


def test_density(table):
    _, counts, _ = table
    for n in counts["rows"].values():
        assert n / (SPEC.places * SPEC.activities) == pytest.approx(SPEC.density, rel=0.1)


def test_values_are_lognormal_and_skewed(table):
    _, _, rows = table
    log_value = np.log(rows["value"])
    assert log_value.std() > 1.0  # spread over orders of magnitude
    size = rows[rows.year == 2019].groupby("place")["value"].sum()
    assert size.max() / size.median() > 50


def test_deterministic_by_seed_and_a_prefix_of_larger_tables(table, tmp_path):
    _, _, rows = table
    again = tmp_path / "again"
    generate_tall(SPEC, again)
    pd.testing.assert_frame_equal(pq.read_table(again).to_pandas(), rows)
    other = tmp_path / "other"
    generate_tall(TallSpec(1200, 200, 0.03, (2020,), seed=6), other)
    assert len(pq.read_table(other).to_pandas().merge(rows[rows.year == 2020])) < 10
    # A place's rows depend neither on how many places nor on which other years are asked.
    fewer = tmp_path / "fewer"
    generate_tall(TallSpec(1200, 200, 0.03, (2020,), seed=5), fewer)
    expected = rows[(rows.year == 2020) & rows.place.isin(tall.place_code(np.arange(1200)))]
    pd.testing.assert_frame_equal(pq.read_table(fewer).to_pandas(), expected.reset_index(drop=True))


def test_nested_and_persistent(table):
    """Capable places hold the activities of less capable ones: for pairs of places, the
    share of the less diversified one's activities that the more diversified one also holds
    (NODF's paired overlap) is far above what the same densities give at random; and
    diversification follows the latent capability."""
    _, _, rows = table
    year = rows[rows.year == 2019]
    M = _presence(year).to_numpy().astype(float)
    rng = np.random.default_rng(0)
    sample = rng.choice(M.shape[0], 400, replace=False)
    S = M[sample]
    degree = S.sum(axis=1)
    overlap = S @ S.T
    higher = degree[:, None] > degree[None, :]  # row i more diversified than column j
    containment = (overlap / degree[None, :])[higher].mean()
    expected_at_random = (degree[:, None] / M.shape[1] * np.ones_like(overlap))[higher].mean()
    assert containment > 5 * expected_at_random  # measured: 0.44 vs 0.06
    places = _presence(year).index
    capability = tall.capability(SPEC, 0, SPEC.places)[[int(p[1:]) - 1 for p in places]]
    assert (
        np.corrcoef(np.argsort(np.argsort(capability)), np.argsort(np.argsort(M.sum(1))))[0, 1]
        > 0.9
    )
    # persistent: most pairs of 2019 are there in 2020
    pairs = {y: set(zip(r.place, r.activity, strict=True)) for y, r in rows.groupby("year")}
    assert len(pairs[2019] & pairs[2020]) / len(pairs[2019]) > 0.7


def test_labelled_synthetic_and_read_as_a_source(spark, table):
    out, _, rows = table
    note = (out / TABLE_MARKER).read_text()
    assert "SYNTHETIC" in note and '"seed": 5' in note
    assert marked_synthetic(str(out)) and marked_synthetic(str(out / "tall_2019.parquet"))
    assert not marked_synthetic(str(out.parent))
    read = read_place_activity(spark, str(out))  # the note beside the files is not read as data
    assert read.counts["rows_quarantined"] == 0 and read.counts["rows_read"] == len(rows)


def test_cli(tmp_path, capsys):
    out = tmp_path / "cli"
    tall.main(
        ["--places", "50", "--activities", "40", "--density", "0.1", "--years", "2019,2021"]
        + ["--out", str(out)]
    )
    assert "SYNTHETIC" in capsys.readouterr().out
    assert sorted(p.name for p in out.glob("*.parquet")) == [
        "tall_2019.parquet",
        "tall_2021.parquet",
    ]
    assert tall.parse_years("2019-2021,2023") == (2019, 2020, 2021, 2023)
    with pytest.raises(ValueError):
        TallSpec(10, 10, 1.5, (2019,))
