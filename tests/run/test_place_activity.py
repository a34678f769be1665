"""jobs/fitness.py on place x activity tables, through the job's own path (run in this process
on the session's Spark): the R package's real SITC world trade reproduces its stored Fitness;
the SYNTHETIC UK regions give every table, checked against independent numpy computations,
and the regional report; bad rows are quarantined with their lines and reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deltalake import DeltaTable

from lib.measures.regional import hoover_index, krugman_index, location_quotient, locational_gini
from lib.run.place_activity import PLACE_ACTIVITY_TABLES
from lib.tables import TABLES
from tests.report.job import run_job
from tests.shared_run import assert_same_table, read_deltalake, read_spark, run_fitness_job

R_DATA = Path(__file__).resolve().parents[1] / "data" / "economiccomplexity_r"


def _read(warehouse: str, name: str) -> pd.DataFrame:
    return DeltaTable(f"{warehouse}/{name}").to_pandas()


def test_r_package_fitness_through_the_generic_input(spark, tmp_path):
    """World trade 1998-2000 by country and SITC rev. 2 product (real data) as a place x
    activity CSV: M is the package's balassa_index exactly, and Fitness and Complexity (19
    updates from 1, as the package's 20 iterations) its stored vectors within 1e-9."""
    trade = pd.read_csv(R_DATA / "world_trade_avg_1998_to_2000.csv", dtype={"product": str})
    source = tmp_path / "world_trade_sitc.csv"
    trade.rename(columns={"country": "place", "product": "activity"}).assign(year=2000).to_csv(
        source, index=False
    )
    warehouse = str(tmp_path / "warehouse")
    run_fitness_job(
        spark,
        *("--source", str(source), "--warehouse", warehouse),
        *("--set", "fitness.max_iterations=19", "--set", "fitness.tolerance=0"),
        *("--set", "product_space.enabled=false"),
        *("--set", 'input.place_kind="country"', "--set", 'input.activity_classification="SITC2"'),
    )
    dataset = _read(warehouse, "place_activity_dataset").iloc[0]
    assert (dataset.place_kind, dataset.activity_classification) == ("country", "SITC2")
    assert not dataset.synthetic

    grid = _read(warehouse, "place_activity_year")
    ones = pd.read_csv(R_DATA / "package_output_balassa_index_ones.csv", dtype=str)
    ours = grid[grid.mcp == 1]
    assert set(zip(ours.place, ours.activity, strict=True)) == set(
        zip(ones.country, ones["product"], strict=True)
    )

    country = _read(warehouse, "place_year").set_index("place")
    ref_f = pd.read_csv(R_DATA / "package_output_fitness_country.csv").set_index("country")
    assert set(country.index) == set(ref_f.index)
    got, ref = country.loc[ref_f.index, "fitness"].to_numpy(), ref_f["fitness"].to_numpy()
    relative = np.max(np.abs(got - ref) / np.abs(ref))
    assert relative < 1e-9, f"fitness vs R package: max relative difference {relative:.2e}"
    product = _read(warehouse, "activity_year").set_index("activity")
    ref_q = pd.read_csv(
        R_DATA / "package_output_fitness_product.csv", dtype={"product": str}
    ).set_index("product")["complexity"]
    got_q = product.loc[ref_q.index, "complexity"].to_numpy()
    relative_q = np.max(np.abs(got_q - ref_q.to_numpy()) / np.abs(ref_q.to_numpy()))
    assert relative_q < 1e-9, f"complexity vs R package: {relative_q:.2e}"
    convergence = _read(warehouse, "fitness_convergence")
    assert convergence[["year", "iterations"]].values.tolist() == [[2000, 19]]


@pytest.fixture(scope="module")
def uk_run(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("uk_regions")
    warehouse = str(root / "warehouse")
    run_fitness_job(
        spark,
        *("--source", "uk-regions", "--warehouse", warehouse, "--years", "2020-2022"),
        *("--report", str(root / "report")),  # the documented one-command run
    )
    return warehouse, root


def _input_matrices(warehouse: str) -> dict[int, pd.DataFrame]:
    """The input table as read back (the generated CSV), pivoted per year: place x activity."""
    source = _read(warehouse, "place_activity_dataset").iloc[0]["source"]
    rows = pd.read_csv(source, dtype={"activity": str})
    rows = rows[rows.year.between(2020, 2022)]
    return {
        int(y): r.pivot_table(index="place", columns="activity", values="value", fill_value=0.0)
        for y, r in rows.groupby("year")
    }


def test_uk_regions_tables_match_numpy(uk_run):
    warehouse, _ = uk_run
    dataset = _read(warehouse, "place_activity_dataset").iloc[0]
    assert dataset.synthetic and dataset.place_kind == "region" and "SYNTHETIC" in dataset.note
    assert len(_read(warehouse, "places")) == 12 and len(_read(warehouse, "activities")) <= 88
    matrices = _input_matrices(warehouse)
    grid = _read(warehouse, "place_activity_year")
    structure = _read(warehouse, "place_structure_year")
    concentration = _read(warehouse, "activity_concentration_year")
    for year, X in matrices.items():
        lq = pd.DataFrame(location_quotient(X.to_numpy()), X.index, X.columns)
        mine = grid[(grid.year == year) & (grid.export_value > 0)]
        expected = lq.stack().loc[list(zip(mine.place, mine.activity, strict=True))].to_numpy()
        np.testing.assert_allclose(mine.rca.to_numpy(), expected, rtol=1e-12)
        s = structure[structure.year == year].set_index("place").loc[X.index]
        np.testing.assert_allclose(s.krugman_index, krugman_index(X.to_numpy()), rtol=1e-12)
        c = concentration[concentration.year == year].set_index("activity").loc[X.columns]
        np.testing.assert_allclose(c.hoover_index, hoover_index(X.to_numpy()), rtol=1e-12)
        np.testing.assert_allclose(c.locational_gini, locational_gini(X.to_numpy()), atol=1e-12)
    # entries and exits: set differences of the independent M (LQ >= 1) of consecutive years
    changes = _read(warehouse, "specialisation_changes")
    for before, after in ((2020, 2021), (2021, 2022)):
        m0, m1 = _specialised(matrices[before]), _specialised(matrices[after])
        got = changes[changes.year == after]
        assert (got.from_year == before).all()
        assert _pairs(got[got.change == "entry"]) == m1 - m0
        assert _pairs(got[got.change == "exit"]) == m0 - m1


def _specialised(X: pd.DataFrame) -> set[tuple[str, str]]:
    lq = pd.DataFrame(location_quotient(X.to_numpy()), X.index, X.columns).stack()
    return {key for key, value in lq.items() if value >= 1}


def _pairs(rows: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(rows.place, rows.activity, strict=True))


@pytest.mark.parametrize("name", PLACE_ACTIVITY_TABLES)
def test_tables_read_the_same_without_spark(spark, uk_run, name):
    """The place x activity tables as delta-rs reads them (reader version 1, no deletion
    vectors), with the data dictionary's comments."""
    path = f"{uk_run[0]}/{name}"
    assert_same_table(read_deltalake(path), read_spark(spark, path), f"deltalake {name}")
    table = DeltaTable(path)
    assert table.protocol().min_reader_version == 1 and not table.protocol().reader_features
    comments = {f.name: f.metadata.get("comment") for f in table.schema().fields}
    assert comments == {c.name: c.comment for c in TABLES[name].columns}


def test_uk_regions_report(spark, uk_run):
    warehouse, root = uk_run
    out = root / "report"  # written by jobs/fitness.py --report
    page = (out / "report.html").read_text()
    assert "SYNTHETIC" in page and "Location quotients by region for manufacturing" in page
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs[0] == "01_group_location_quotients.png" and len(pngs) == 5
    lq = _read(warehouse, "regional_group_lq")
    latest = lq[lq.year == 2022].set_index("place_name")["lq"]
    assert set(latest.nlargest(2).index) == {"East Midlands", "West Midlands"}
    assert latest.idxmin() == "London"
    adjacent = _read(warehouse, "regional_adjacent_activities")
    assert (adjacent.lq < 1).all() and adjacent.groupby("place")["rank"].max().max() == 5

    # jobs/report.py recognises the warehouse and draws the regional report too
    again = root / "report_job"
    run_job(["--warehouse", warehouse, "--out", str(again), "--top", "3", "--group", "J"])
    assert "Location quotients by region for J" in (again / "report.html").read_text()
    adjacent = _read(warehouse, "regional_adjacent_activities")
    assert adjacent.groupby("place")["rank"].max().max() == 3
    lq = _read(warehouse, "regional_group_lq")
    assert lq[lq.year == 2022].set_index("place_name")["lq"].idxmax() == "London"


def test_quarantine_and_warehouse_guard(spark, tmp_path):
    source = tmp_path / "employment.csv"
    lines = ["place,activity,year,value"]
    rng = np.random.default_rng(0)
    for year in (2019, 2020):
        for p in "ABCDE":
            for a in range(6):
                lines.append(f"{p},{a:02d},{year},{int(rng.integers(1, 100))}")
    lines += ["A,00,2020,7", "B,01,2020,-1", "C,02,twenty,3"]  # lines 62-64
    source.write_text("\n".join(lines) + "\n")
    warehouse = str(tmp_path / "warehouse")
    run_id = run_fitness_job(spark, "--source", str(source), "--warehouse", warehouse)
    quarantine = _read(warehouse, "place_activity_quarantine")
    reasons = dict(zip(quarantine.line_number, quarantine.reason, strict=True))
    # the 2020 row of (A, 00) is on line 32 (header, 30 rows of 2019, then A's first)
    assert sorted(reasons) == [32, 62, 63, 64]
    duplicate = "duplicate (year, place, activity), first at line 32"
    assert reasons[32] == reasons[62] == duplicate
    assert reasons[63] == "value negative" and reasons[64].startswith("year not an integer")
    assert (quarantine.run_id == run_id).all()
    log = _read(warehouse, "run_log").set_index("run_id").loc[run_id]
    assert dict(log.row_counts)["place_activity.rows_quarantined"] == 4
    grid = _read(warehouse, "place_year")
    assert sorted(grid.year.unique()) == [2019, 2020] and len(grid) == 10
    assert sorted(grid.place) == sorted("ABCDE" * 2)

    # A warehouse with BACI flows is refused before anything is written.
    from lib.io import delta
    from lib.tables import TABLES

    baci = tmp_path / "baci_warehouse"
    delta.ensure_table(spark, delta.table_path(str(baci), delta.FLOWS), TABLES[delta.FLOWS])
    with pytest.raises(SystemExit, match="holds BACI flows"):
        run_fitness_job(spark, "--source", str(source), "--warehouse", str(baci))
    assert not (baci / "places").exists()


def test_a_warehouse_of_the_earlier_names_is_rebuilt(spark, tmp_path):
    """A warehouse written before the place / activity names (indicator tables called
    country_year ..., places keyed by an integer country_code) is rebuilt by the next run:
    the old tables go, and every year of the input is computed again even with --years."""
    from lib.io import delta
    from lib.tables import TABLES

    source = tmp_path / "employment.csv"
    rows = [
        f"{p},{a:02d},{year},{(7 * i + 3 * a + year) % 50 + 1}"
        for year in (2019, 2020)
        for i, p in enumerate("ABCD")
        for a in range(5)
    ]
    source.write_text("place,activity,year,value\n" + "\n".join(rows) + "\n")
    warehouse = str(tmp_path / "warehouse")
    run_fitness_job(spark, "--source", str(source), "--warehouse", warehouse)
    expected = _read(warehouse, "place_year").sort_values(["year", "place"], ignore_index=True)
    # The earlier layout: the BACI declaration of country_year (what such runs wrote) and
    # places with the integer code.
    delta.ensure_table(
        spark, delta.table_path(warehouse, "country_year"), TABLES[delta.COUNTRY_YEAR]
    )
    old_places = spark.createDataFrame(
        [(1, "A", None), (2, "B", None)], "country_code int, place string, place_name string"
    )
    old_places.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(
        delta.table_path(warehouse, "places")
    )
    delta.write_table(  # drop 2019 from place_year: the upgrade computes it again
        spark.createDataFrame([], delta.read_table(spark, warehouse, "place_year").schema),
        warehouse,
        "place_year",
        "test",
        replace_where="year = 2019",
    )
    run_id = run_fitness_job(
        spark, "--source", str(source), "--warehouse", warehouse, "--years", "2020"
    )
    assert not delta.table_exists(spark, warehouse, "country_year")
    assert _read(warehouse, "places").columns.tolist() == ["place", "place_name"]
    got = _read(warehouse, "place_year").sort_values(["year", "place"], ignore_index=True)
    pd.testing.assert_frame_equal(got, expected)
    log = _read(warehouse, "run_log").set_index("run_id").loc[run_id]
    assert dict(log.row_counts)["place_activity.tables_upgraded"] == 2
    # and a run on a current warehouse upgrades nothing
    run_id = run_fitness_job(
        spark, "--source", str(source), "--warehouse", warehouse, "--years", "2020"
    )
    log = _read(warehouse, "run_log").set_index("run_id").loc[run_id]
    assert "place_activity.tables_upgraded" not in dict(log.row_counts)
