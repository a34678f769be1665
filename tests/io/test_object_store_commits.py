"""Safe commits on S3: several writers at once against a real S3 server (moto, tests/s3_server.py).

The Arrow writer's commits go through delta-rs, whose commit PUTs on S3 carry
``If-None-Match: *``: when two writers race for the same version the server answers 412 to one
of them, which then either retries on the next version (no conflict) or loses with
``ConcurrentCommitError`` naming the table and the commits it lost to (a conflict): never an
overwritten commit. Two writer processes commit to one table concurrently here; afterwards the
table's history has every commit once and its rows are exactly what the commits that stood wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from lib.io import delta
from lib.io.delta_arrow import commit_files, table_version, write_data_file
from lib.io.delta_commits import ConcurrentCommitError
from lib.io.filesystems import arrow_uri
from lib.tables import TABLES
from tests.conftest import PROJECT_ROOT
from tests.s3_server import BUCKET

YEARS_A = list(range(2001, 2007))
YEARS_B = list(range(2011, 2017))


def flows(year: int, writer: str, n: int = 3) -> pa.Table:
    """``n`` synthetic flows whose values say who wrote them for which year."""
    base = 1000.0 if writer == "a" else 2000.0
    return pa.table(
        {
            "exporter": pa.array([4] * n, pa.int32()),
            "importer": pa.array(range(10, 10 + n), pa.int32()),
            "product": ["010111"] * n,
            "value": [base + year + i / 10 for i in range(n)],
            "quantity": [1.0] * n,
            "hs_revision": ["HS92"] * n,
            "release": ["synthetic"] * n,
        }
    )


def writer_process(uri: str, writer: str, years: list[int], start: float) -> None:
    """A writer (its own process): write every year's file, planned on the version read
    first, then from ``start`` on (both writers at once) commit them one by one as fast as it
    can; a commit that loses is planned again and rerun until it stands. One JSON line per
    attempt."""
    planned = table_version(uri)
    adds = {y: write_data_file(flows(y, writer), uri, delta.FLOWS, {"year": y}) for y in years}
    time.sleep(max(0.0, start - time.time()))
    for year in years:
        for attempt in range(20):
            metadata = delta.commit_metadata(f"{writer}-{year}-{attempt}")
            try:
                version = commit_files(uri, [adds[year]], {"year": [year]}, metadata, planned)
                print(json.dumps({"year": year, "attempt": attempt, "version": version}))
                break
            except ConcurrentCommitError as error:
                print(json.dumps({"year": year, "attempt": attempt, "lost": str(error)}))
                planned = table_version(uri)
        else:
            raise AssertionError(f"{writer}: {year} never committed")


def _create(spark, uri: str) -> None:
    delta.ensure_table(spark, uri, TABLES[delta.FLOWS])


def test_two_writers_at_once_lose_no_commit(spark, s3):
    uri = f"s3a://{BUCKET}/commits/concurrent/{delta.FLOWS}"
    _create(spark, uri)
    created = table_version(uri)
    code = "from tests.io.test_object_store_commits import writer_process as w; "
    start = time.time() + 8  # both processes started and their files written by then
    processes = {
        writer: subprocess.Popen(
            [sys.executable, "-c", code + f"w({uri!r}, {writer!r}, {years!r}, {start!r})"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for writer, years in (("a", YEARS_A), ("b", YEARS_B))
    }
    attempts = {}
    for writer, process in processes.items():
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
        attempts[writer] = [json.loads(line) for line in out.splitlines()]
    landed = {w: [a for a in attempts[w] if "version" in a] for w in attempts}
    lost = [a for w in attempts for a in attempts[w] if "lost" in a]
    for loss in lost:  # a loser is told which table, and that it was not committed
        assert f"concurrent write to {uri}" in loss["lost"] and "was not made" in loss["lost"]
    table = DeltaTable(arrow_uri(uri))
    history = sorted(table.history(), key=lambda c: c["version"])
    # every commit that stood is in the history once, at the version its writer was told
    assert [c["version"] for c in history] == list(range(table.version() + 1))
    assert table.version() == created + len(YEARS_A) + len(YEARS_B)
    runs = [json.loads(c["userMetadata"])["run_id"] for c in history if c["version"] > created]
    stood = {f"{w}-{a['year']}-{a['attempt']}": a["version"] for w in landed for a in landed[w]}
    assert sorted(runs) == sorted(stood)
    for commit in history[created + 1 :]:
        run_id = json.loads(commit["userMetadata"])["run_id"]
        assert stood[run_id] == commit["version"]
    # the rows are exactly those of the commits that stood: no lost or doubled year
    rows = table.to_pyarrow_table()
    expected = pa.concat_tables([flows(y, "a") for y in YEARS_A] + [flows(y, "b") for y in YEARS_B])
    key = lambda r: (r["value"], r["importer"])  # noqa: E731
    got = sorted(rows.select(expected.column_names).to_pylist(), key=key)
    assert got == sorted(expected.to_pylist(), key=key)
    assert sorted(set(rows.column("year").to_pylist())) == YEARS_A + YEARS_B
    print(f"{len(lost)} commit(s) lost a race and were rerun")


def test_a_conflicting_commit_loses_with_an_error_naming_the_conflict(spark, s3):
    uri = f"s3a://{BUCKET}/commits/conflict/{delta.FLOWS}"
    _create(spark, uri)
    planned = table_version(uri)  # both writers plan on this version, for the same year
    first = write_data_file(flows(2020, "a"), uri, delta.FLOWS, {"year": 2020})
    second = write_data_file(flows(2020, "b"), uri, delta.FLOWS, {"year": 2020})
    won = commit_files(uri, [first], {"year": [2020]}, delta.commit_metadata("run-a"), planned)
    with pytest.raises(ConcurrentCommitError) as lost:
        commit_files(uri, [second], {"year": [2020]}, delta.commit_metadata("run-b"), planned)
    message = str(lost.value)
    assert f"concurrent write to {uri}" in message
    assert f"planned on v{planned}" in message and "run-a" in message  # whom it lost to
    table = DeltaTable(arrow_uri(uri))
    assert table.version() == won == planned + 1  # nothing more was committed
    assert sorted(table.to_pyarrow_table().column("value").to_pylist()) == sorted(
        flows(2020, "a").column("value").to_pylist()
    )
    # the loser's rerun, planned on the current version, stands
    rerun = commit_files(
        uri, [second], {"year": [2020]}, delta.commit_metadata("run-b"), table.version()
    )
    assert rerun == won + 1
    assert sorted(DeltaTable(arrow_uri(uri)).to_pyarrow_table().column("value").to_pylist()) == (
        sorted(flows(2020, "b").column("value").to_pylist())
    )
