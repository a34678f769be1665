"""The whole job on an ``s3a://`` warehouse, against a real S3 server on 127.0.0.1 (moto,
tests/s3_server.py), with each writer: the same tables as the local-folder run, read back from
the bucket by delta-rs and DuckDB with the environment a user sets; then the report and the
maintenance job on the same warehouse. Nothing names the endpoint or a key in a table or the
run log.

One job run per writer (the tiny release, as the shared local run): the reference is that local
run (tests/shared_run.py).
"""

from __future__ import annotations

import runpy
import sys

import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from bench.compare_warehouses import main as compare_warehouses
from lib.io import bi, delta
from lib.io.catalog import list_tables
from lib.io.delta import LOG_RETENTION
from lib.io.filesystems import arrow_uri
from lib.tables import BACI_RUN_TABLES
from tests.conftest import PROJECT_ROOT
from tests.report.job import run_job as run_report_job
from tests.s3_server import ACCESS_KEY, BUCKET, SECRET_KEY
from tests.shared_run import (
    TINY_JOB_ARGS,
    assert_same_table,
    assert_same_warehouse,
    read_deltalake,
    run_fitness_job,
    shared_tiny_run,
)

WRITERS = ("arrow", "spark")
_RUNS: dict[str, str] = {}


@pytest.fixture(scope="module")
def local(spark, tmp_path_factory):
    return shared_tiny_run(spark, tmp_path_factory)


def s3_warehouse(spark, s3, local, writer: str) -> str:
    """jobs/fitness.py on ``s3a://BUCKET/job-WRITER`` with that writer, once per session."""
    if writer not in _RUNS:
        warehouse = f"s3a://{BUCKET}/job-{writer}"
        run_fitness_job(
            spark,
            *("--source", str(local.release)),
            *("--warehouse", warehouse),
            *("--set", f"output.writer={writer}"),
            *TINY_JOB_ARGS,
        )
        _RUNS[writer] = warehouse
    return _RUNS[writer]


@pytest.mark.parametrize("writer", WRITERS)
def test_the_job_on_s3_writes_the_tables_of_a_local_run(spark, s3, local, writer, capsys):
    warehouse = s3_warehouse(spark, s3, local, writer)
    assert set(BACI_RUN_TABLES) <= set(list_tables(spark, warehouse))
    assert_same_warehouse(spark, warehouse, local.warehouse, f"s3 ({writer})")
    # and as bench/compare_warehouses.py sees them (the tool to compare two warehouses)
    capsys.readouterr()
    assert compare_warehouses([warehouse, local.warehouse, "--rtol", "1e-9"]) == 0, (
        capsys.readouterr().out
    )


def test_duckdb_reads_the_s3_warehouse_as_delta_rs_does(spark, s3, local):
    warehouse = s3_warehouse(spark, s3, local, "arrow")
    con = bi.duckdb_with_delta(s3=True)
    try:
        for name in list_tables(spark, warehouse):
            uri = arrow_uri(delta.table_path(warehouse, name))
            by_duckdb = con.execute("SELECT * FROM delta_scan(?)", [uri]).fetch_arrow_table()
            assert_same_table(by_duckdb, read_deltalake(uri), f"duckdb {name}")
    finally:
        con.close()


def test_no_table_or_log_names_the_endpoint_or_a_key(spark, s3, local):
    for writer in WRITERS:
        s3_warehouse(spark, s3, local, writer)
    client = s3.client()
    for key in s3.keys(prefix="job-"):
        if "/_delta_log/" not in key and not key.endswith(".parquet"):
            continue
        body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        for secret in (ACCESS_KEY, SECRET_KEY, f"127.0.0.1:{s3.port}"):
            assert secret.encode() not in body, key


@pytest.mark.s3_full
def test_report_and_maintenance_on_the_s3_warehouse(
    spark, s3, local, tmp_path, monkeypatch, capsys
):
    """~7 minutes on a loaded 2-core machine: under the ``s3_full`` marker (-m s3_full)."""
    warehouse = s3_warehouse(spark, s3, local, "arrow")
    countries = read_deltalake(arrow_uri(delta.table_path(warehouse, delta.COUNTRY_YEAR)))
    iso3 = sorted(set(countries.column("iso3").to_pylist()))
    out = tmp_path / "report"
    run_report_job(
        [
            *("--country", iso3[0]),
            *("--compare", ",".join(iso3[1:3])),
            *("--warehouse", warehouse),
            *("--out", str(out)),
        ]
    )
    assert (out / "report.html").is_file()
    from lib.tables.report import REPORT_TABLES

    written = set(list_tables(spark, warehouse)) & set(REPORT_TABLES)
    assert written, "the report wrote no table into the S3 warehouse"
    for name in written:
        assert read_deltalake(arrow_uri(delta.table_path(warehouse, name))).num_rows > 0, name
    # the maintenance job: retention set and VACUUM run on every table of the bucket
    argv = ["maintain.py", "--warehouse", warehouse, "--set", "output.log_retention_days=40"]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(SparkSession, "stop", lambda self: None)
    capsys.readouterr()
    runpy.run_path(str(PROJECT_ROOT / "jobs" / "maintain.py"), run_name="__main__")
    out = capsys.readouterr().out
    for name in list_tables(spark, warehouse):
        properties = DeltaTable(arrow_uri(delta.table_path(warehouse, name))).metadata()
        assert properties.configuration[LOG_RETENTION] == "interval 40 days", name
        assert any(line.startswith(f"{name}: version") for line in out.splitlines()), name
