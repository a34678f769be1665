"""Incremental runs: unchanged yearly files are not read again, and only the years whose flows
(or settings) changed, or that are missing from an output, are recomputed."""

from __future__ import annotations

import os
import shutil

import pytest

from lib.config import load_config
from lib.ingest import ingest_release
from lib.io import delta
from lib.io.baci import discover_release
from lib.run_log import RunRecord
from lib.synthetic import flow_file_name, generate_release
from lib.workflow import flows_keys, run_indicators, settings_key, stale_years
from tests.shared_run import TINY, shared_tiny_run


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
    assert stale_years(spark, config, years, keys, settings_key(config)) == [years[0]]
    stricter = load_config(None, [f'output.warehouse="{wh}"', "rca.strict=true"])
    assert settings_key(stricter) != settings_key(config)
    assert stale_years(spark, config, years, keys, settings_key(stricter)) == years
