"""Reruns and crashes: a rerun leaves the same tables, and a run killed with SIGKILL during
ingest or during the indicators can be rerun to the same results as an uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deltalake import DeltaTable

from lib.config import load_config
from lib.io import delta
from lib.io.baci import discover_release
from lib.run_log import RunRecord
from lib.synthetic import generate_release
from lib.workflow import run_indicators, run_ingest
from tests.conftest import PROJECT_ROOT

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
def release(tmp_path_factory) -> Path:
    return generate_release(tmp_path_factory.mktemp("recovery") / "release", size="tiny", seed=3)


def run_in_process(spark, release: Path, warehouse: str) -> None:
    config = load_config(overrides=[f'output.warehouse="{warehouse}"'])
    run = RunRecord("test", config)
    run_ingest(spark, config, discover_release(str(release)), run)
    run_indicators(spark, config, run)


@pytest.fixture(scope="module")
def reference(spark, release, tmp_path_factory) -> dict[str, pd.DataFrame]:
    warehouse = str(tmp_path_factory.mktemp("reference") / "warehouse")
    run_in_process(spark, release, warehouse)
    return snapshot(warehouse)


def test_rerun_leaves_the_same_tables_and_no_duplicates(spark, release, reference, tmp_path):
    warehouse = str(tmp_path / "warehouse")
    run_in_process(spark, release, warehouse)
    first_versions = {n: DeltaTable(delta.table_path(warehouse, n)).version() for n in TABLES}
    run_in_process(spark, release, warehouse)
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


def _job(release: Path, warehouse: str) -> subprocess.Popen:
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
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: SIGKILL reaches the JVM and Python
    )


def _kill_when(process: subprocess.Popen, marker: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert process.poll() is None, "the job ended before it could be killed"
        assert time.monotonic() < deadline, f"{marker} never appeared"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.mark.sigkill
@pytest.mark.parametrize(
    ("stage", "marker"),
    [
        # the first batch of years (2018, 2019) is committed and the files of the second are
        # being written, not yet committed: mid-ingest
        ("ingest", f"{delta.FLOWS}/year=2020"),
        # country_year is written, product_year is being created: mid-indicators
        ("indicators", f"{delta.PRODUCT_YEAR}/_delta_log/00000000000000000000.json"),
    ],
)
def test_killed_run_reruns_to_the_same_result(release, reference, tmp_path, stage, marker):
    warehouse = str(tmp_path / "warehouse")
    _kill_when(_job(release, warehouse), Path(warehouse) / marker)
    rerun = _job(release, warehouse)
    assert rerun.wait(timeout=900) == 0, f"rerun after a kill during {stage} failed"
    assert_same_tables(snapshot(warehouse), reference)
