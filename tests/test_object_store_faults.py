"""Faults of an S3 warehouse, against the local S3 server (tests/s3_server.py): a missing
bucket, refused credentials and a stopped server stop the job before Spark does any work, with
an error naming the warehouse URI; nothing is created in the bucket; the job runs once the
fault is gone (the shared S3 runs of tests/test_object_store_job.py are those reruns: the same
server, brought back). Under ``-m s3_full``: the server lost in the middle of a run, then the rerun.

Refused credentials: a second moto server with its IAM checks on (by default moto accepts any
key; docs/cluster.md, "Tested against a local S3 server").
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from deltalake import DeltaTable

from lib.io import delta
from lib.io.catalog import list_tables
from lib.io.object_stores import StorageError, check_reachable
from tests.s3_server import BUCKET, S3Server, free_port
from tests.shared_run import (
    TINY_JOB_ARGS,
    assert_same_table,
    read_deltalake,
    run_fitness_job,
    shared_release,
    shared_tiny_run,
)


def _job_exit(spark, tmp_path_factory, warehouse: str) -> str:
    release = shared_release(tmp_path_factory)
    with pytest.raises(SystemExit) as stopped:
        run_fitness_job(spark, "--source", str(release), "--warehouse", warehouse)
    return str(stopped.value)


def test_a_missing_bucket_stops_the_job_naming_the_uri(spark, s3, tmp_path_factory):
    warehouse = "s3a://ecx-no-such-bucket/warehouse"
    message = _job_exit(spark, tmp_path_factory, warehouse)
    assert message.startswith("Storage error:") and warehouse in message
    assert "'ecx-no-such-bucket' does not exist" in message
    names = [b["Name"] for b in s3.client().list_buckets()["Buckets"]]
    assert "ecx-no-such-bucket" not in names  # nothing was created on the way


def test_a_stopped_server_stops_the_job_naming_the_uri(spark, s3, tmp_path_factory):
    warehouse = f"s3a://{BUCKET}/stopped-server"
    s3.interrupt()
    try:
        message = _job_exit(spark, tmp_path_factory, warehouse)
    finally:
        s3.resume()
    assert message.startswith("Storage error: cannot reach the warehouse") and warehouse in message
    assert s3.endpoint in message  # which endpoint it tried
    assert not s3.keys(prefix="stopped-server/")  # nothing half-written
    check_reachable(warehouse)  # and once the server is back, the warehouse is usable


def test_refused_credentials_stop_the_job_naming_the_uri(spark, tmp_path_factory, monkeypatch):
    """A server that checks keys (moto with its IAM checks on), a key it never issued: the job
    stops before Spark with the URI and the refusal. The variables are changed for this
    process only: the check runs on the driver before the job's Spark work."""
    server = S3Server(free_port(), check_credentials=True).start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA-NEVER-ISSUED")
        warehouse = "s3a://ecx-locked/warehouse"
        message = _job_exit(spark, tmp_path_factory, warehouse)
    finally:
        server.stop()
    assert message.startswith("Storage error: cannot reach the warehouse") and warehouse in message
    assert "ACCESS_DENIED" in message and "AWS_ACCESS_KEY_ID" in message


def test_other_stores_are_left_to_spark(s3):
    for uri in ("/tmp/warehouse", "abfss://c@a.dfs.core.windows.net/wh", "gs://b/wh"):
        check_reachable(uri)  # no error, no network: Spark reaches them with its own settings
    with pytest.raises(StorageError):
        check_reachable("s3a://ecx-no-such-bucket-either/wh")


@pytest.mark.s3_full
def test_a_server_lost_mid_run_leaves_whole_commits_and_a_rerun_completes(
    spark, s3, tmp_path_factory
):
    """The endpoint goes away once the ingest has committed the flows (the run is then in its
    indicators): the job stops with a storage error naming the URI; every table left in the
    bucket holds whole commits only and reads; with the server back, the same job run again
    ends with the tables of the local run. (The kill -9 case of a local warehouse:
    tests/test_recovery.py.)"""
    local = shared_tiny_run(spark, tmp_path_factory)
    bucket = s3.create_bucket("ecx-faults")
    warehouse = f"s3a://{bucket}/warehouse"
    # This bucket's S3A client gives up after one retry, so the loss shows in seconds (S3A's
    # defaults retry for minutes); per bucket, so no other test's client changes.
    retries = {f"fs.s3a.bucket.{bucket}.{k}": "1" for k in ("retry.limit", "attempts.maximum")}
    marker = f"warehouse/{delta.FLOWS}/_delta_log/00000000000000000001.json"
    seen = threading.Event()

    def interrupt_after_ingest() -> None:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and not seen.is_set():
            if marker in s3.keys(bucket, prefix=marker, direct=True):
                s3.interrupt()
                seen.set()
                return
            time.sleep(0.2)

    watcher = threading.Thread(target=interrupt_after_ingest, daemon=True)
    args = ["--source", str(local.release), "--warehouse", warehouse, *TINY_JOB_ARGS]
    with delta.session_conf(spark, retries):
        watcher.start()
        try:
            with pytest.raises(SystemExit) as stopped:
                run_fitness_job(spark, *args)
        finally:
            seen.set()
            watcher.join()
            s3.resume()
    message = str(stopped.value)
    assert message.startswith("Storage error during the run:") and warehouse in message
    # nothing half-committed: whole JSON log entries, every table readable by delta-rs
    client = s3.client()
    tables = set()
    for key in s3.keys(bucket, prefix="warehouse/"):
        if "/_delta_log/" in key and key.endswith(".json"):
            tables.add(key.split("/")[1])
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
            for line in body.splitlines():
                json.loads(line)
    assert delta.FLOWS in tables
    for name in tables:
        DeltaTable(f"s3://{bucket}/warehouse/{name}").to_pyarrow_table()
    with delta.session_conf(spark, retries):
        run_fitness_job(spark, *args)
    # the rerun's own run log row differs from an uninterrupted run's (it redid less)
    assert list_tables(spark, warehouse) == list_tables(spark, local.warehouse)
    for name in list_tables(spark, local.warehouse):
        if name != delta.RUN_LOG:
            assert_same_table(
                read_deltalake(delta.table_path(warehouse, name)),
                read_deltalake(delta.table_path(local.warehouse, name)),
                f"s3 rerun {name}",
                tolerance=1e-9,
                ignore=("run_id",),
            )
