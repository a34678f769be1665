"""The main job runs unchanged on a real Spark standalone cluster and writes what local mode writes.

A master and two one-core workers are started on 127.0.0.1 from the installed pyspark; the job is
submitted once through ./spark-submit.sh, exactly as a user would, and its tables are compared
with a local-mode run on the same release (floats to 1e-9; run ids and timings ignored).

What this proves and what it cannot:
- the executors are separate processes in their own working directories that import ``lib``
  from the zip spark-submit.sh ships with --py-files (checked with an import probe), not from
  this working copy;
- nothing the executors need comes from a driver-only file: configuration is resolved on the
  driver and shipped inside the tasks; package data is read with importlib.resources, which
  works from the zip (``test_package_data_reads_from_the_zip``);
- the BACI files are parsed inside executor tasks (lib.execution.ingest), so on a real cluster the release
  must be on storage every node sees (HDFS, S3, a shared mount). Here the workers share this
  machine's disk, which stands in for it; docs/cluster.md says so.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyspark
import pytest

from tests.shared_run import (
    TINY_JOB_ARGS,
    assert_same_warehouse,
    shared_release,
    shared_tiny_run,
)

pytestmark = pytest.mark.cluster

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SPARK_CLASS = Path(pyspark.__file__).parent / "bin" / "spark-class"
JOB_TIMEOUT_SECONDS = 900
STARTUP_TIMEOUT_SECONDS = 180

# Imported by every executor-side Python process (it is on their PYTHONPATH through
# spark.executorEnv.PYTHONPATH): records where ``lib`` is imported from.
IMPORT_PROBE = """
import importlib.machinery, json, os, sys

class _LibImportProbe:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "lib":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        record = {"origin": spec.origin if spec else None, "cwd": os.getcwd()}
        with open(os.path.join(os.path.dirname(__file__), "lib-%d.json" % os.getpid()), "w") as f:
            json.dump(record, f)
        return spec

sys.meta_path.insert(0, _LibImportProbe)
"""


@dataclass(frozen=True)
class Cluster:
    url: str
    webui: str
    work_dir: Path
    logs: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def daemon_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
    (root / "conf").mkdir(exist_ok=True)
    env.update(
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_DAEMON_MEMORY="384m",  # master and worker JVMs; executors are separate
        SPARK_WORKER_DIR=str(root / "work"),  # not the default <pyspark>/work
        SPARK_LOCAL_DIRS=str(root / "local"),
        SPARK_CONF_DIR=str(root / "conf"),  # empty: no stray spark-defaults.conf
        SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false",  # no fixed port 6066
    )
    return env


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    # Its own process group, so that stopping it also stops the executors a worker launched.
    with open(log, "wb") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def master_state(webui: str) -> dict:
    with urllib.request.urlopen(f"{webui}/json/", timeout=5) as response:
        return json.load(response)


def log_tails(logs: Path, lines: int = 15) -> str:
    return "\n".join(
        f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        for log in sorted(logs.glob("*.log"))
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("standalone")
    logs = root / "logs"
    logs.mkdir()
    env = daemon_env(root)
    port, webui_port = free_port(), free_port()
    url, webui = f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{webui_port}"
    started = time.perf_counter()
    processes = [
        start(
            [str(SPARK_CLASS), "org.apache.spark.deploy.master.Master"]
            + ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(webui_port)],
            env,
            logs / "master.log",
        )
    ]
    try:
        for i in range(2):
            processes.append(
                start(
                    [str(SPARK_CLASS), "org.apache.spark.deploy.worker.Worker"]
                    + ["--host", "127.0.0.1", "--cores", "1", "--memory", "1g"]
                    + ["--webui-port", str(free_port()), url],
                    env,
                    logs / f"worker-{i}.log",
                )
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        alive = 0
        while alive < 2:
            if any(p.poll() is not None for p in processes):
                pytest.fail("a cluster process exited while starting:\n" + log_tails(logs))
            if time.monotonic() > deadline:
                pytest.fail(f"only {alive} of 2 workers registered:\n" + log_tails(logs))
            time.sleep(1)
            try:
                workers = master_state(webui).get("workers", [])
            except (OSError, ValueError, http.client.HTTPException):
                continue  # the master's web UI is not up yet, or not serving JSON yet
            alive = sum(w.get("state") == "ALIVE" for w in workers)
        print(f"\ncluster of 2 workers up in {time.perf_counter() - started:.1f} s")
        yield Cluster(url, webui, root / "work", logs)
    finally:
        for process in reversed(processes):
            stop(process)


def submit(
    cluster: Cluster,
    release: Path | str,
    warehouse: Path,
    probe: Path,
    job_args: tuple[str, ...] | list[str] | None = None,
    log_name: str = "job.log",
) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    command = [
        "./spark-submit.sh",
        "--master",
        cluster.url,
        "--driver-memory",
        "1g",
        "--executor-memory",
        "768m",
        "--conf",
        f"spark.executorEnv.PYTHONPATH={probe}",
        # Tuning for a tiny release on a busy 2-core machine, as tests/conftest.py does for the
        # local session; none of it changes what the job computes.
        *("--conf", "spark.ui.enabled=false"),
        *("--conf", "spark.locality.wait=0s"),
        *("--conf", "spark.databricks.delta.snapshotPartitions=2"),
        *("--conf", "spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1"),
        *("--conf", "spark.executor.extraJavaOptions=-XX:TieredStopAtLevel=1"),
        "jobs/fitness.py",
        *("--warehouse", str(warehouse)),
        *("--set", "spark.shuffle_partitions=2"),
        *(job_args if job_args is not None else ("--source", str(release), *TINY_JOB_ARGS)),
    ]
    with open(cluster.logs / log_name, "wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def test_fitness_job_on_the_cluster_matches_local_mode(spark, cluster, tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster_job")
    probe = root / "probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(IMPORT_PROBE)
    release = shared_release(tmp_path_factory)
    warehouse = root / "warehouse"

    started = time.perf_counter()
    job = submit(cluster, release, warehouse, probe)
    finished: list[float] = []
    watcher = threading.Thread(
        target=lambda: (job.wait(), finished.append(time.perf_counter())), daemon=True
    )
    watcher.start()
    try:
        # The local-mode reference runs in this process while the cluster works.
        local = shared_tiny_run(spark, tmp_path_factory)
        local_done = time.perf_counter()
        job.wait(timeout=JOB_TIMEOUT_SECONDS)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()
    watcher.join(timeout=5)
    cluster_seconds = (finished[0] if finished else time.perf_counter()) - started
    print(
        f"job on the cluster: {cluster_seconds:.1f} s; local-mode reference in this process, "
        f"at the same time (0 if an earlier test ran it): {local_done - started:.1f} s"
    )
    job_log = (cluster.logs / "job.log").read_text(errors="replace")
    assert job.returncode == 0, job_log[-5000:] + "\n" + log_tails(cluster.logs)
    assert "wrote its tables" in job_log
    # A quiet console (conf/log4j2.properties): no Spark INFO line, the job's progress instead.
    info = re.findall(r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d INFO .*$", job_log, re.MULTILINE)
    assert not info, "Spark INFO lines on the console:\n" + "\n".join(info[:10])
    assert "[ingest] 2/2 files" in job_log and "[indicators] 2/2 years" in job_log, job_log[-3000:]

    # It ran on the cluster: the master saw the application finish, with executors on both
    # workers, each in its own directory holding the shipped code.
    apps = master_state(cluster.webui).get("completedapps", [])
    assert [a["name"] for a in apps] == ["ecomplexity-fitness"]
    executor_dirs = [d for d in cluster.work_dir.glob("app-*/*") if d.is_dir()]
    assert sum((d / "ecx_lib.zip").is_file() for d in executor_dirs) >= 2

    # Executors imported lib from the zip, never from this working copy.
    records = [json.loads(p.read_text()) for p in probe.glob("lib-*.json")]
    assert records, "no executor-side Python process imported lib"
    for record in records:
        origin = Path(record["cwd"], record["origin"]).resolve()
        assert origin.parent.parent.name == "ecx_lib.zip", record
        assert cluster.work_dir.resolve() in origin.parents, record

    assert_same_warehouse(spark, str(warehouse), local.warehouse, "cluster")


def test_distributed_path_on_the_cluster(spark, cluster, tmp_path_factory):
    """The distributed path (execution.matrix = distributed) on the standalone cluster writes
    what the in-task path writes locally (tests/execution/distributed/test_job_paths.py)."""
    from tests.execution.distributed.test_job_paths import (
        assert_paths_equal,
        distributed_job_args,
        in_task_reference,
        r_trade_csv,
    )

    root = tmp_path_factory.mktemp("cluster_distributed")
    probe = root / "probe"
    probe.mkdir()
    source = r_trade_csv(root)
    warehouse = root / "distributed"
    job = submit(cluster, source, warehouse, probe, distributed_job_args(source), "dist.log")
    try:
        job.wait(timeout=JOB_TIMEOUT_SECONDS)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()
    job_log = (cluster.logs / "dist.log").read_text(errors="replace")
    assert job.returncode == 0, job_log[-5000:] + "\n" + log_tails(cluster.logs)
    assert "2000: distributed" in job_log, job_log[-3000:]
    assert_paths_equal(in_task_reference(spark, source, root), str(warehouse))


def test_package_data_reads_from_the_zip(tmp_path):
    """lib/data/*.csv and the config defaults work when lib is only a zip (as on executors)."""
    archive = tmp_path / "ecx_lib.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:  # as spark-submit.sh does
        for path in sorted((PROJECT_ROOT / "lib").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, path.relative_to(PROJECT_ROOT))
    code = f"""
import sys
sys.path.insert(0, {str(archive)!r})
import lib
assert lib.__file__.startswith({str(archive)!r}), lib.__file__
from lib.classifications.hs import hs_chapters
from lib.datasets.synthetic import load_chapters, load_countries
assert len(hs_chapters()) >= 96 and load_chapters() and load_countries()
from lib.run.config import Config, load_config
assert load_config() == Config()  # no conf/ next to the zip: the code defaults
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if k != "ECX_CONF_DIR"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
