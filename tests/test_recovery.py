"""Reruns and crashes: a rerun leaves the same tables, and a run killed with SIGKILL during
ingest or during the indicators can be rerun to the same results as an uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deltalake import DeltaTable

from lib.execution.ingest import INGEST_FILES
from lib.io import delta
from lib.io.baci import discover_release
from lib.run.config import load_config
from lib.run.run_log import RunRecord
from lib.run.workflow import INDICATOR_STATE, run_indicators, run_ingest
from tests.conftest import PROJECT_ROOT
from tests.shared_run import run_fitness_job, shared_release, shared_tiny_run

TABLES = [
    delta.FLOWS,
    delta.QUARANTINE,
    delta.COUNTRIES,
    delta.PRODUCTS,
    delta.COUNTRY_YEAR,
    delta.PRODUCT_YEAR,
    delta.COUNTRY_PRODUCT_YEAR,
    delta.PRODUCT_PROXIMITY,
    delta.FITNESS_CONVERGENCE,
    INGEST_FILES,  # the bookkeeping of incremental runs, too
    INDICATOR_STATE,
]
RUN_SPECIFIC = {"run_id"}


def snapshot(warehouse: str, version: int | None = None) -> dict[str, pd.DataFrame]:
    """Every table's rows, sorted, without run-specific columns."""
    result = {}
    for name in TABLES:
        table = DeltaTable(delta.table_path(warehouse, name), version=version)
        frame = table.to_pandas()
        frame = frame.drop(columns=[c for c in frame.columns if c in RUN_SPECIFIC])
        result[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return result


def assert_same_tables(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    for name in TABLES:
        a, b = left[name], right[name]
        assert list(a.columns) == list(b.columns), name
        assert len(a) == len(b), f"{name}: {len(a)} rows vs {len(b)}"
        for column in a.columns:
            if pd.api.types.is_float_dtype(a[column]):
                np.testing.assert_allclose(
                    a[column].to_numpy(),
                    b[column].to_numpy(),
                    rtol=1e-12,
                    err_msg=f"{name}.{column}",
                )
            else:
                assert a[column].tolist() == b[column].tolist(), f"{name}.{column}"


@pytest.fixture(scope="module")
def release(spark, tmp_path_factory) -> Path:
    """The shared tiny release (two years, with lines for the quarantine)."""
    return shared_release(tmp_path_factory)


def run_in_process(spark, release: Path, warehouse: str) -> None:
    config = load_config(overrides=[f'output.warehouse="{warehouse}"'])
    run = RunRecord("test", config)
    run_ingest(spark, config, discover_release(str(release)), run)
    run_indicators(spark, config, run)


@pytest.fixture(scope="module")
def reference_run(spark, tmp_path_factory) -> tuple[str, dict[str, pd.DataFrame]]:
    """An uninterrupted run (the shared one: jobs/fitness.py on the release): a writable copy
    of its warehouse, and the snapshot of its tables."""
    shared = shared_tiny_run(spark, tmp_path_factory)
    warehouse = str(tmp_path_factory.mktemp("reference") / "warehouse")
    shutil.copytree(shared.warehouse, warehouse)
    return warehouse, snapshot(shared.warehouse)


@pytest.fixture(scope="module")
def reference(reference_run) -> dict[str, pd.DataFrame]:
    return reference_run[1]


def test_rerun_leaves_the_same_tables_and_no_duplicates(spark, release, reference_run):
    warehouse, reference = reference_run
    first_versions = {n: DeltaTable(delta.table_path(warehouse, n)).version() for n in TABLES}
    run_in_process(spark, release, warehouse)  # the same run again, on the same warehouse
    assert_same_tables(snapshot(warehouse), reference)
    for name, version in first_versions.items():  # time travel: the earlier snapshot is intact
        earlier = DeltaTable(delta.table_path(warehouse, name), version=version).to_pandas()
        assert len(earlier) == len(reference[name]), name
    keys = {
        delta.FLOWS: ["year", "exporter", "importer", "product"],
        delta.COUNTRY_YEAR: ["year", "country_code"],
        delta.PRODUCT_YEAR: ["year", "product"],
        delta.COUNTRY_PRODUCT_YEAR: ["year", "country_code", "product"],
        delta.PRODUCT_PROXIMITY: ["year", "product_a", "product_b"],
    }
    tables = snapshot(warehouse)
    for name, key in keys.items():
        assert not tables[name].duplicated(key).any(), f"duplicate keys in {name}"


def _job(release: Path, warehouse: str, log: Path) -> subprocess.Popen:
    with open(log, "w") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [
                "./spark-submit.sh",
                "jobs/fitness.py",
                "--source",
                str(release),
                "--warehouse",
                warehouse,
            ],
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL reaches the JVM and Python
        )


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _kill_when(process: subprocess.Popen, marker: Path, log: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert process.poll() is None, f"the job ended before it could be killed:\n{_tail(log)}"
        assert time.monotonic() < deadline, f"{marker} never appeared"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.mark.sigkill
def test_killed_runs_rerun_to_the_same_result(spark, release, reference, tmp_path):
    """kill -9 of the whole job (driver JVM and Python) mid-ingest, then of the rerun
    mid-indicators; the next rerun ends with exactly the tables of an uninterrupted run (and
    without duplicates: the snapshot has as many rows as the reference).

    One chain instead of two separate kills: the second run both recovers from the first kill
    (it redoes the ingest the kill interrupted) and is itself killed, which saves a job launch.
    """
    warehouse = str(tmp_path / "warehouse")
    kills = [
        # the flows table is created, the release's flows are being written: mid-ingest
        ("ingest", f"{delta.FLOWS}/_delta_log/00000000000000000000.json"),
        # country_year is written, product_year is being created: mid-indicators
        ("indicators", f"{delta.PRODUCT_YEAR}/_delta_log/00000000000000000000.json"),
    ]
    for stage, marker in kills:
        log = tmp_path / f"killed-during-{stage}.log"
        _kill_when(_job(release, warehouse, log), Path(warehouse) / marker, log)
    # The job's own code path, in this process (a warm session saves a launch, ~40 s).
    run_fitness_job(spark, "--source", str(release), "--warehouse", warehouse)
    assert_same_tables(snapshot(warehouse), reference)
