"""One SparkSession for the whole suite (start-up costs ~10 s), tuned for small data."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Real reference data kept in the repository, one folder per source (tests/data/README.md).
TEST_DATA = PROJECT_ROOT / "tests" / "data"

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


def data_path(*parts: str) -> Path:
    """A file or folder under tests/data. WHY no skip: a reference test that cannot find its
    data must fail, never pass silently by skipping."""
    path = TEST_DATA.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"reference data missing from the repository: {path}")
    return path


@pytest.fixture(scope="session")
def spark():
    from lib.run.session import build_session

    session = build_session("ecx-tests", master="local[2]", extra_conf=FAST_TEST_CONF)
    yield session
    session.stop()


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse"
    path.mkdir()
    return path
