"""Faults of an S3 warehouse, against the local S3 server (tests/s3_server.py): a missing bucket
and a stopped server stop the job before Spark does any work, with an error naming the
warehouse URI; nothing is created in the bucket; the job runs once the fault is gone (the
shared S3 runs of tests/test_object_store_job.py are those reruns: the same server, brought
back).

Not emulated here: refused credentials (moto accepts any key unless its IAM checks are on;
docs/cluster.md, "Tested against a local S3 server").
"""

from __future__ import annotations

import pytest

from lib.io.object_stores import StorageError, check_reachable
from tests.s3_server import BUCKET
from tests.shared_run import run_fitness_job, shared_release


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


def test_other_stores_are_left_to_spark(s3):
    for uri in ("/tmp/warehouse", "abfss://c@a.dfs.core.windows.net/wh", "gs://b/wh"):
        check_reachable(uri)  # no error, no network: Spark reaches them with its own settings
    with pytest.raises(StorageError):
        check_reachable("s3a://ecx-no-such-bucket-either/wh")
