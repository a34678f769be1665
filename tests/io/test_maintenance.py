"""Retention properties from the config, VACUUM that never breaks time travel within the
retention, and the maintenance job (docs/cluster.md, "Maintenance")."""

from __future__ import annotations

import runpy
import shutil
import sys

import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from lib.io import delta
from lib.io.catalog import list_tables
from lib.io.maintenance import (
    DELETED_FILE_RETENTION,
    LOG_RETENTION,
    MIN_DELETED_FILE_RETENTION_DAYS,
    maintain,
    retention_defaults_conf,
    retention_properties,
    vacuum_table,
)
from lib.run.config import ConfigError, OutputConfig, load_config
from lib.run.workflow import written_indicator_tables
from lib.tables import BACI_RUN_TABLES
from tests.shared_run import (
    assert_same_table,
    read_deltalake,
    restore,
    run_fitness_job,
    session_settings,
    shared_tiny_run,
)


@pytest.fixture(autouse=True)
def restore_session_settings(spark):
    """Retention defaults and commit metadata are session settings: leave the shared session
    as found."""
    saved = session_settings(spark)
    yield
    restore(spark, saved)


def set_retention(spark, output: OutputConfig) -> None:
    """What a job sets for its duration (lib.run.workflow.job_settings); the fixture above puts
    the session back."""
    for key, value in retention_defaults_conf(output).items():
        spark.conf.set(key, value)


def table_properties(path: str) -> dict[str, str]:
    return DeltaTable(path).metadata().configuration


def small_table(spark, warehouse: str, year: int, run_id: str) -> None:
    df = spark.createDataFrame(
        [(year, 12, 1e-13, "tacchella")],
        "year int, iterations int, final_change double, method string",
    )
    delta.write_table(
        df, warehouse, delta.FITNESS_CONVERGENCE, run_id, replace_where=f"year = {year}"
    )


def test_retention_properties_follow_the_config(spark, warehouse):
    path = delta.table_path(str(warehouse), delta.FITNESS_CONVERGENCE)
    set_retention(spark, OutputConfig(log_retention_days=45, deleted_file_retention_days=10))
    small_table(spark, str(warehouse), 2019, "run-1")
    assert table_properties(path)[LOG_RETENTION] == "interval 45 days"
    assert table_properties(path)[DELETED_FILE_RETENTION] == "interval 10 days"

    # A later run with another retention updates the existing table (lib.io.delta.ensure_table).
    set_retention(spark, OutputConfig(log_retention_days=60, deleted_file_retention_days=8))
    small_table(spark, str(warehouse), 2020, "run-2")
    assert table_properties(path)[LOG_RETENTION] == "interval 60 days"
    assert table_properties(path)[DELETED_FILE_RETENTION] == "interval 8 days"


def test_a_retention_below_the_safety_floor_is_refused_before_spark_starts():
    with pytest.raises(ConfigError, match="output.deleted_file_retention_days"):
        load_config(
            overrides=[f"output.deleted_file_retention_days={MIN_DELETED_FILE_RETENTION_DAYS - 1}"]
        )
    with pytest.raises(ConfigError, match="output.catalog_database"):
        load_config(overrides=['output.catalog_database="my-db; DROP"'])


def test_vacuum_never_goes_below_the_safety_floor(spark, warehouse):
    set_retention(spark, OutputConfig())
    small_table(spark, str(warehouse), 2019, "run-1")
    small_table(spark, str(warehouse), 2019, "run-2")  # replaces run-1's file
    path = delta.table_path(str(warehouse), delta.FITNESS_CONVERGENCE)
    previous = DeltaTable(path).version() - 1

    assert vacuum_table(spark, path, retention_days=0, dry_run=True) == 0
    vacuum_table(spark, path, retention_days=0, dry_run=False)

    assert len(DeltaTable(path, version=previous).to_pandas()) == 1  # run-1's file is still there
    # Delta's own check is on: asking it directly for zero retention is refused.
    with pytest.raises(Exception, match="(?i)retention"):
        spark.sql(f"VACUUM delta.`{path}` RETAIN 0 HOURS")


@pytest.fixture(scope="module")
def rerun(spark, tmp_path_factory):
    """A copy of the shared run's warehouse, re-run (indicators only) with another RCA
    threshold and a 40-day log retention."""
    tiny = shared_tiny_run(spark, tmp_path_factory)
    warehouse = str(tmp_path_factory.mktemp("maintenance") / "warehouse")
    shutil.copytree(tiny.warehouse, warehouse)
    before = {
        name: DeltaTable(delta.table_path(warehouse, name)).version() for name in BACI_RUN_TABLES
    }
    run_fitness_job(
        spark,
        *("--no-ingest", "--warehouse", warehouse),
        *("--years", "2019"),  # one year is enough for a new version, and quicker
        *("--set", "rca.threshold=1.5"),
        *("--set", "output.log_retention_days=40"),
    )
    output = load_config(
        overrides={"output.warehouse": warehouse, "output.log_retention_days": 40}
    ).output
    return tiny, warehouse, before, output


def test_time_travel_to_the_previous_run_after_a_rerun_and_vacuum(spark, rerun):
    tiny, warehouse, before, output = rerun
    changed = delta.COUNTRY_PRODUCT_YEAR  # mcp depends on the threshold
    path = delta.table_path(warehouse, changed)
    assert DeltaTable(path).version() > before[changed]
    assert read_deltalake(path) != read_deltalake(delta.table_path(tiny.warehouse, changed))

    states = maintain(spark, output)

    assert {s.name for s in states} == set(list_tables(spark, warehouse))
    assert all(s.retention == retention_properties(output) for s in states)
    assert all(s.vacuumed_files in (0, None) for s in states)  # everything is within retention
    for name in BACI_RUN_TABLES:
        as_before = DeltaTable(delta.table_path(warehouse, name), version=before[name])
        original = read_deltalake(delta.table_path(tiny.warehouse, name))
        assert_same_table(as_before.to_pyarrow_table(), original, f"{name}@v{before[name]}")
        # Spark's time travel reads the same version.
        via_spark = delta.read_table(spark, warehouse, name, version=before[name]).count()
        assert via_spark == original.num_rows, name


def test_the_rerun_set_the_configured_retention_on_the_tables_it_wrote(rerun):
    _, warehouse, _, output = rerun
    config = load_config(overrides={"output.warehouse": warehouse})
    for name in (*written_indicator_tables(config), delta.RUN_LOG):
        properties = table_properties(delta.table_path(warehouse, name))
        assert {k: properties.get(k) for k in (LOG_RETENTION, DELETED_FILE_RETENTION)} == (
            retention_properties(output)
        ), name


def test_maintain_job_prints_versions_and_history(spark, warehouse, monkeypatch, capsys):
    small_table(spark, str(warehouse), 2019, "run-1")
    small_table(spark, str(warehouse), 2019, "run-2")
    argv = ["maintain.py", "--warehouse", str(warehouse), "--set", "output.log_retention_days=40"]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(SparkSession, "stop", lambda self: None)  # keep the shared session
    runpy.run_path("jobs/maintain.py", run_name="__main__")
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith(f"{delta.FITNESS_CONVERGENCE}:"))
    assert "VACUUM deleted 0 files" in line and "log kept interval 40 days" in line
    assert '"run_id": "run-2"' in out  # the history names the runs
    assert "VACUUM END" in out
