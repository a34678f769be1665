"""One SparkSession for the whole suite (start-up costs ~10 s), tuned for small data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ECX_SHARED", PROJECT_ROOT.parent / "shared"))
SHARED_REAL = SHARED / "data" / "real"
SHARED_MAPPINGS = SHARED / "data" / "mappings"

FAST_TEST_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.adaptive.enabled": "false",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1",
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.driver.memory": "4g",
}


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with a clear message where it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data not available: {path} (the ../shared folder is absent)")
    return path


@pytest.fixture(scope="session")
def spark():
    from lib.session import build_session

    session = build_session("ecx-tests", master="local[2]", extra_conf=FAST_TEST_CONF)
    yield session
    session.stop()


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse"
    path.mkdir()
    return path
