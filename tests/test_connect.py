"""The main job runs unchanged through Spark Connect and writes what the classic local run writes.

A real Spark Connect server (the class in pyspark's own jars) is started on 127.0.0.1 with
Delta's jars and extensions, as a user would start one or as Databricks serverless provides it.
The job is then run exactly as ``./spark-submit.sh --remote sc://...`` runs it: a plain Python
process with ``ECX_SPARK_REMOTE`` set and no JVM of its own, so nothing in it can reach py4j,
a SparkContext or RDDs. Its ``lib`` reaches the server's Python workers as an artifact
(``lib.run.session.ship_code``). Every table must equal the classic local-mode run of the same
release (floats to 1e-9; run ids and timings ignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyspark
import pytest

from lib.run.session import delta_jars
from tests.shared_run import (
    TINY_JOB_ARGS,
    assert_same_warehouse,
    shared_release,
    shared_tiny_run,
)
from tests.test_cluster import free_port, start, stop

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SPARK_SUBMIT = Path(pyspark.__file__).parent / "bin" / "spark-submit"
STARTUP_TIMEOUT_SECONDS = 240
JOB_TIMEOUT_SECONDS = 900


def connect_server_command(port: int) -> list[str]:
    """spark-submit of Spark's Connect server with Delta: what a user runs (docs/spark-connect.md)."""
    return [
        str(SPARK_SUBMIT),
        *("--class", "org.apache.spark.sql.connect.service.SparkConnectServer"),
        *("--master", "local[2]"),
        *("--jars", ",".join(delta_jars())),
        *("--conf", "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension"),
        *(
            "--conf",
            "spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog",
        ),
        *("--conf", "spark.connect.grpc.binding.address=127.0.0.1"),
        *("--conf", f"spark.connect.grpc.binding.port={port}"),
        *("--conf", f"spark.pyspark.python={sys.executable}"),
        *("--conf", "spark.ui.enabled=false"),
        *("--conf", "spark.sql.shuffle.partitions=2"),
        *("--driver-memory", "2g"),
        "spark-internal",
    ]


def wait_for_port(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Connect server exited:\n{log.read_text(errors='replace')[-4000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(1)
    pytest.fail(f"no Connect server on port {port}:\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("connect_server")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
    # spark-submit finds its Spark home (pyspark's) and the venv's Python through PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    log = root / "server.log"
    process = start(connect_server_command(port), env, log)
    try:
        wait_for_port(process, port, log)
        yield f"sc://127.0.0.1:{port}"
    finally:
        stop(process)


def test_fitness_job_through_spark_connect_matches_classic(spark, connect_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("connect_job")
    warehouse = root / "warehouse"
    release = shared_release(tmp_path_factory)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
    env["ECX_SPARK_REMOTE"] = connect_url
    job = subprocess.run(
        [sys.executable, "jobs/fitness.py", "--source", str(release)]
        + ["--warehouse", str(warehouse), *TINY_JOB_ARGS],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=JOB_TIMEOUT_SECONDS,
    )
    assert job.returncode == 0, (job.stdout + job.stderr)[-6000:]
    assert "wrote its tables" in job.stdout

    local = shared_tiny_run(spark, tmp_path_factory)
    assert_same_warehouse(spark, str(warehouse), local.warehouse, "connect")


def test_distributed_path_through_spark_connect(spark, connect_url, tmp_path_factory):
    """The distributed path (execution.matrix = distributed) through Spark Connect writes what
    the in-task path writes locally (tests/execution/distributed/test_job_paths.py)."""
    from tests.execution.distributed.test_job_paths import (
        assert_paths_equal,
        distributed_job_args,
        in_task_reference,
        r_trade_csv,
    )

    root = tmp_path_factory.mktemp("connect_distributed")
    source = r_trade_csv(root)
    warehouse = root / "distributed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
    env["ECX_SPARK_REMOTE"] = connect_url
    job = subprocess.run(
        [sys.executable, "jobs/fitness.py", "--warehouse", str(warehouse)]
        + distributed_job_args(source),
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=JOB_TIMEOUT_SECONDS,
    )
    assert job.returncode == 0, (job.stdout + job.stderr)[-6000:]
    assert "2000: distributed" in job.stderr, job.stderr[-3000:]
    assert_paths_equal(in_task_reference(spark, source, root), str(warehouse))
