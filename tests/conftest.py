"""One SparkSession for the whole suite (start-up costs ~10 s), tuned for small data, and a local
S3 server for the object-store tests (tests/s3_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.s3_server import S3Server, configure_environment

# Before the session's JVM starts: it and its Python workers inherit the S3 endpoint and keys.
S3_PORT = configure_environment()

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


@pytest.fixture(scope="session")
def s3():
    """The local S3 server (moto behind a relay, tests/s3_server.py) with the test bucket; the
    suite's clients already point at it through the AWS environment variables."""
    server = S3Server(S3_PORT).start()
    try:
        server.create_bucket()
        yield server
    finally:
        server.stop()
