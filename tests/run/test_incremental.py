"""Incremental runs: unchanged yearly files are not read again, and only the years whose flows
(or settings) changed, or that are missing from an output, are recomputed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lib.datasets.synthetic import flow_file_name, generate_release
from lib.execution.ingest import INGEST_FILES, ingest_release
from lib.io import delta
from lib.io.baci import discover_release
from lib.run.config import load_config
from lib.run.run_log import RunRecord
from lib.run.versions import code_fingerprint
from lib.run.workflow import (
    flows_keys,
    run_indicators,
    run_ingest,
    settings_key,
    settings_keys,
    stale_years,
    written_indicator_tables,
)
from tests.shared_run import TINY, shared_tiny_run

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_release(tmp_path_factory):
    return generate_release(tmp_path_factory.mktemp("tiny") / "release", size="tiny", seed=3)


def revise(path):
    """A new version of a yearly file: one flow value changed (size and mtime change too)."""
    lines = path.read_text().splitlines()
    fields = lines[1].split(",")
    fields[4] = f"{float(fields[4]) + 1000:.3f}"
    lines[1] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, (1_800_000_000, 1_800_000_000))


def test_only_new_or_changed_files_are_ingested(spark, warehouse, tiny_release):
    wh = str(warehouse)
    release = discover_release(str(tiny_release))
    first = ingest_release(spark, release, wh, "run-1", optimize=False, skip_unchanged=True)
    assert first.ingested_years == [2018, 2019, 2020] and first.unchanged_years == []
    version = delta.table_version(spark, wh, delta.FLOWS)

    again = ingest_release(spark, release, wh, "run-2", optimize=False, skip_unchanged=True)
    assert again.ingested_years == [] and again.unchanged_years == [2018, 2019, 2020]
    assert delta.table_version(spark, wh, delta.FLOWS) == version  # nothing written

    revise(tiny_release / flow_file_name(2019))
    release = discover_release(str(tiny_release))
    third = ingest_release(spark, release, wh, "run-3", optimize=False, skip_unchanged=True)
    assert third.ingested_years == [2019] and third.unchanged_years == [2018, 2020]
    assert third.rows_read[2019] == first.rows_read[2019]
    flows = delta.read_table(spark, wh, delta.FLOWS)
    assert flows.count() == sum(first.rows_accepted.values())  # replaced, not appended


def test_indicators_recomputed_only_for_changed_years(spark, tmp_path, tmp_path_factory):
    # A copy of the shared run (jobs/fitness.py, incremental by default), and of its release:
    # copy2 keeps the modification times, so the copied files have the same fingerprints.
    shared = shared_tiny_run(spark, tmp_path_factory)
    source = tmp_path / "release"
    shutil.copytree(shared.release, source, copy_function=shutil.copy2)
    wh = str(tmp_path / "warehouse")
    shutil.copytree(shared.warehouse, wh)
    config = load_config(None, [f'output.warehouse="{wh}"'])
    years = list(TINY.years)

    def run_once(cfg=config):
        run = RunRecord("test", cfg)
        computed = run_indicators(spark, cfg, run, incremental=True)
        return computed, run.years

    unchanged = ingest_release(
        spark, discover_release(str(source)), wh, "i1", optimize=False, skip_unchanged=True
    )
    assert unchanged.ingested_years == [] and unchanged.unchanged_years == years
    assert run_once() == (years, [])  # nothing changed since the shared run

    revise(source / flow_file_name(years[-1]))
    ingest_release(
        spark, discover_release(str(source)), wh, "i2", optimize=False, skip_unchanged=True
    )
    assert run_once() == (years, [years[-1]])

    # a year missing from an output table, or other settings: recomputed (checked, not run)
    spark.sql(
        f"DELETE FROM delta.`{delta.table_path(wh, delta.PRODUCT_YEAR)}` WHERE year = {years[0]}"
    )
    keys = flows_keys(spark, wh, years, delta.table_version(spark, wh, delta.FLOWS))
    assert stale_years(spark, config, years, keys, settings_keys(config)) == [years[0]]
    stricter = load_config(None, [f'output.warehouse="{wh}"', "rca.strict=true"])
    assert settings_key(stricter) != settings_key(config)
    assert stale_years(spark, config, years, keys, settings_keys(stricter)) == years


def test_a_code_edit_recomputes_and_no_change_commits_nothing(
    spark, tmp_path, tmp_path_factory, monkeypatch
):
    """The years' keys include a hash of the code under lib/: an edit there changes it (checked
    on a copy of lib/ with one statement added), and the next plain rerun recomputes every
    year; a rerun with nothing changed commits nothing to the indicator tables."""
    shared = shared_tiny_run(spark, tmp_path_factory)
    wh = str(tmp_path / "warehouse")
    shutil.copytree(shared.warehouse, wh)
    config = load_config(None, [f'output.warehouse="{wh}"'])
    versions = {
        name: delta.table_version(spark, wh, name) for name in written_indicator_tables(config)
    }

    run = RunRecord("test", config)
    run_indicators(spark, config, run, incremental=True)
    assert run.years == []
    assert {
        name: delta.table_version(spark, wh, name) for name in written_indicator_tables(config)
    } == versions

    edited = tmp_path / "edited"
    shutil.copytree(PROJECT_ROOT / "lib", edited / "lib")
    with open(edited / "lib" / "measures" / "rca.py", "a", encoding="utf-8") as handle:
        handle.write("\nEDITED = 1\n")
    probe = "from lib.run.versions import code_fingerprint; print(code_fingerprint())"
    fingerprint = subprocess.run(
        [sys.executable, "-c", probe], cwd=edited, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert fingerprint and fingerprint != code_fingerprint()
    monkeypatch.setattr("lib.run.workflow.code_fingerprints", lambda: (fingerprint,))
    run = RunRecord("test", config)
    run_indicators(spark, config, run, incremental=True)
    assert run.years == list(TINY.years)
    assert all(delta.table_version(spark, wh, name) > versions[name] for name in versions)


def test_a_warehouse_holds_one_baci_release(spark, tmp_path, tmp_path_factory):
    """Flows of another release are refused with a clear message; --full-refresh replaces the
    old release's rows."""
    shared = shared_tiny_run(spark, tmp_path_factory)
    wh = str(tmp_path / "warehouse")
    shutil.copytree(shared.warehouse, wh)
    old_release = discover_release(str(shared.release)).release
    newer = tmp_path / "newer"
    newer.mkdir()
    for path in shared.release.iterdir():
        shutil.copy2(path, newer / path.name.replace(old_release, "SYNTH2501"))
    config = load_config(None, [f'output.warehouse="{wh}"'])
    release = discover_release(str(newer))
    assert release.release == "SYNTH2501"

    with pytest.raises(SystemExit, match=f"holds BACI release {old_release}, not SYNTH2501"):
        run_ingest(spark, config, release, RunRecord("test", config), incremental=True)
    flows = delta.read_table(spark, wh, delta.FLOWS)
    assert {r["release"] for r in flows.select("release").distinct().collect()} == {old_release}

    run_ingest(spark, config, release, RunRecord("test", config), incremental=False)
    for name in (delta.FLOWS, INGEST_FILES):
        table = delta.read_table(spark, wh, name)
        assert {r["release"] for r in table.select("release").distinct().collect()} == {
            "SYNTH2501"
        }, name


def test_an_upgrade_whose_code_is_equivalent_recomputes_nothing(
    spark, tmp_path, tmp_path_factory, monkeypatch
):
    """Years computed by earlier code that ``lib.run.versions.EQUIVALENT`` lists for the code
    now are current; without that entry the same rerun recomputes every year."""
    shared = shared_tiny_run(spark, tmp_path_factory)
    wh = str(tmp_path / "warehouse")
    shutil.copytree(shared.warehouse, wh)
    config = load_config(None, [f'output.warehouse="{wh}"'])
    monkeypatch.setattr("lib.run.workflow.code_fingerprints", lambda: ("earlier",))
    run_indicators(spark, config, RunRecord("test", config), incremental=False)
    versions = {
        name: delta.table_version(spark, wh, name) for name in written_indicator_tables(config)
    }

    monkeypatch.setattr("lib.run.workflow.code_fingerprints", lambda: ("now", "earlier"))
    run = RunRecord("test", config)
    run_indicators(spark, config, run, incremental=True)
    assert run.years == []
    assert {
        name: delta.table_version(spark, wh, name) for name in written_indicator_tables(config)
    } == versions

    monkeypatch.setattr("lib.run.workflow.code_fingerprints", lambda: ("now",))
    run = RunRecord("test", config)
    run_indicators(spark, config, run, incremental=True)
    assert run.years == list(TINY.years)
