"""Every output table reads the same in Spark, delta-rs (deltalake) and DuckDB.

BI tools and notebooks read the tables without Spark; this runs the main pipeline once on a tiny
release and compares each table as the three readers see it (same columns, same rows, floats to
1e-12), checks the protocol stays readable (reader version 1, no deletion vectors, no column
mapping), that column comments reach a non-Spark reader, and that the snippets of
README.md ("Reading the tables") run as written.

The pipeline run is shared through ``shared_tiny_run`` with tests/test_catalog.py and
tests/test_cluster.py, so a full test session runs it once.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow as pa
import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from lib.io import delta
from lib.io.bi import duckdb_with_delta
from lib.io.catalog import list_tables
from lib.synthetic import SizeSpec, generate_release
from lib.tables import TABLES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCS = PROJECT_ROOT / "README.md"

# Two years, one ingest batch: the fewest Spark jobs that still exercise every table.
TINY = SizeSpec((2018, 2019), n_countries=20, n_products=150, flows_per_year=1500, name="tiny2")
CATALOG_DATABASE = "ecx_shared_test"
# Lines no BACI file should have, so that baci_quarantine has rows for the readers to compare.
BAD_LINES = "2018,36,36,853611,2.421,1.000\n2019,36,50,853611,1.500,NA\n"


# --- one pipeline run, shared by the reader, catalog and cluster tests ---------------------


@dataclass(frozen=True)
class TinyRun:
    release: Path
    warehouse: str
    run_id: str


_SHARED: dict[str, Any] = {}


def make_release(root: Path) -> Path:
    """A tiny synthetic release whose 2018 file has two lines for the quarantine."""
    release = generate_release(root / "release", size=TINY, seed=1)
    with open(release / "BACI_HS92_Y2018_V202401.csv", "a", encoding="utf-8") as handle:
        handle.write(BAD_LINES)
    return release


# Session settings a job sets (lib.workflow.set_commit_metadata); tests put them back so that
# later tests on the shared session do not inherit them.
SESSION_KEYS = (
    "spark.databricks.delta.properties.defaults.logRetentionDuration",
    "spark.databricks.delta.properties.defaults.deletedFileRetentionDuration",
    "spark.databricks.delta.commitInfo.userMetadata",
)


def session_settings(spark) -> dict[str, str | None]:
    return {key: spark.conf.get(key, None) for key in SESSION_KEYS}


def restore(spark, saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, value)


def run_fitness_job(spark, *args: str) -> str:
    """``./spark-submit.sh jobs/fitness.py ARGS``, run in this process on the local test session
    (the job's closing ``spark.stop()`` is skipped). Returns the id of the run it logged."""
    saved = session_settings(spark)
    try:
        with (
            mock.patch.object(sys, "argv", ["fitness.py", *args]),
            mock.patch.object(SparkSession, "stop", lambda self: None),
        ):
            runpy.run_path(str(PROJECT_ROOT / "jobs" / "fitness.py"), run_name="__main__")
    finally:
        restore(spark, saved)
    warehouse = args[args.index("--warehouse") + 1]
    runs = read_deltalake(delta.table_path(warehouse, delta.RUN_LOG)).to_pylist()
    return max(runs, key=lambda r: r["started_at"])["run_id"]


def shared_release(tmp_path_factory) -> Path:
    """The tiny release, generated once per test session."""
    if "release" not in _SHARED:
        _SHARED["release"] = make_release(tmp_path_factory.mktemp("shared_tiny_release"))
    return _SHARED["release"]


def shared_tiny_run(spark, tmp_path_factory) -> TinyRun:
    """The pipeline on the tiny release, run once per test session, tables also registered in
    ``CATALOG_DATABASE``. Callers must not write to its warehouse."""
    if "run" not in _SHARED:
        release = shared_release(tmp_path_factory)
        root = tmp_path_factory.mktemp("shared_tiny_run")
        warehouse = str(root / "warehouse")
        # Give the test database a location under tmp (the default is ./spark-warehouse).
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {CATALOG_DATABASE} LOCATION '{root / 'db'}'")
        run_id = run_fitness_job(
            spark,
            *("--source", str(release)),
            *("--warehouse", warehouse),
            *("--set", f"output.catalog_database={CATALOG_DATABASE}"),
        )
        _SHARED["run"] = TinyRun(release, warehouse, run_id)
    return _SHARED["run"]


# --- reading a table three ways and comparing ----------------------------------------------


def read_spark(spark, path: str) -> pa.Table:
    return spark.read.format("delta").load(path).toArrow()


def read_deltalake(path: str) -> pa.Table:
    return DeltaTable(path).to_pyarrow_table()


def read_duckdb(con, path: str) -> pa.Table:
    return con.execute("SELECT * FROM delta_scan(?)", [path]).fetch_arrow_table()


def type_name(arrow_type: pa.DataType) -> str:
    """A reader-neutral type name: string/large_string/string_view, list field names and the
    spelling of the UTC time zone differ between readers without changing the data."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if hasattr(pa.types, "is_string_view") and pa.types.is_string_view(arrow_type):
        return "string"
    if pa.types.is_timestamp(arrow_type):
        return f"timestamp[{arrow_type.unit}, {'UTC' if arrow_type.tz else 'naive'}]"
    if pa.types.is_map(arrow_type):
        return f"map<{type_name(arrow_type.key_type)}, {type_name(arrow_type.item_type)}>"
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"list<{type_name(arrow_type.value_type)}>"
    return str(arrow_type)


def _plain(value: object) -> object:
    """Nested values made comparable: maps as sorted pairs, timestamps in naive UTC."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return sorted((k, _plain(v)) for k, v in value)  # a map
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return sorted((k, _plain(v)) for k, v in value.items())
    return value


def canonical_rows(
    table: pa.Table, ignore: tuple[str, ...] = ()
) -> tuple[list[str], list[tuple[object, ...]]]:
    """Column names and rows, rows sorted on every column (floats last) so row order of a reader
    never matters; ``ignore`` drops columns such as run ids."""
    names = [n for n in table.column_names if n not in ignore]
    floats = {n for n in names if pa.types.is_floating(table.schema.field(n).type)}
    ordered = [n for n in names if n not in floats] + [n for n in names if n in floats]
    columns = [[_plain(v) for v in table.column(n).to_pylist()] for n in ordered]

    def key(row: tuple[object, ...]) -> tuple[object, ...]:
        return tuple((v is None, "" if v is None else json.dumps(v, default=str)) for v in row)

    rows = sorted(zip(*columns, strict=True), key=key) if columns else []
    return ordered, rows


def assert_same_table(
    actual: pa.Table,
    expected: pa.Table,
    label: str,
    tolerance: float = 1e-12,
    ignore: tuple[str, ...] = (),
) -> None:
    """Same column names and types (reader-neutral), same rows; floats within ``tolerance``."""
    assert actual.column_names == expected.column_names, f"{label}: columns differ"
    actual_types = [type_name(f.type) for f in actual.schema]
    expected_types = [type_name(f.type) for f in expected.schema]
    assert actual_types == expected_types, f"{label}: types differ"
    assert actual.num_rows == expected.num_rows, (
        f"{label}: {actual.num_rows} rows, not {expected.num_rows}"
    )
    names, rows_a = canonical_rows(actual, ignore)
    _, rows_e = canonical_rows(expected, ignore)
    for index, (row_a, row_e) in enumerate(zip(rows_a, rows_e, strict=True)):
        for name, a, e in zip(names, row_a, row_e, strict=True):
            if isinstance(e, float) and isinstance(a, float):
                same = (math.isnan(a) and math.isnan(e)) or math.isclose(
                    a, e, rel_tol=tolerance, abs_tol=tolerance
                )
            else:
                same = a == e
            assert same, f"{label}: row {index}, column {name}: {a!r} != {e!r}"


# --- the tests -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(spark, tmp_path_factory) -> TinyRun:
    return shared_tiny_run(spark, tmp_path_factory)


@pytest.fixture(scope="module")
def duck():
    con = duckdb_with_delta()
    yield con
    con.close()


def test_the_run_wrote_every_table(spark, tiny):
    names = sorted(p.name for p in Path(tiny.warehouse).iterdir() if (p / "_delta_log").is_dir())
    assert set(TABLES) <= set(names)
    assert sorted(list_tables(spark, tiny.warehouse)) == names
    assert read_deltalake(delta.table_path(tiny.warehouse, delta.QUARANTINE)).num_rows == 2


@pytest.mark.parametrize("name", sorted(TABLES))
def test_deltalake_and_duckdb_read_what_spark_reads(spark, tiny, duck, name):
    path = delta.table_path(tiny.warehouse, name)
    spark_view = read_spark(spark, path)
    assert spark_view.num_rows > 0, name
    assert_same_table(read_deltalake(path), spark_view, f"deltalake {name}")
    assert_same_table(read_duckdb(duck, path), spark_view, f"duckdb {name}")


def test_tables_outside_the_data_dictionary_read_the_same(spark, tiny, duck):
    """Bookkeeping tables of the jobs, if any, are no less readable."""
    for name in list_tables(spark, tiny.warehouse):
        if name not in TABLES:
            path = delta.table_path(tiny.warehouse, name)
            spark_view = read_spark(spark, path)
            assert_same_table(read_deltalake(path), spark_view, f"deltalake {name}")
            assert_same_table(read_duckdb(duck, path), spark_view, f"duckdb {name}")
            assert DeltaTable(path).protocol().min_reader_version == 1, name


@pytest.mark.parametrize("name", sorted(TABLES))
def test_protocol_stays_readable(tiny, name):
    table = DeltaTable(delta.table_path(tiny.warehouse, name))
    protocol = table.protocol()
    assert protocol.min_reader_version == 1, name
    assert not protocol.reader_features, name
    # Writer features would only appear with writer version 7; CHECK/NOT NULL need 2-3.
    assert protocol.min_writer_version <= 3, name
    configuration = table.metadata().configuration
    assert configuration.get("delta.enableDeletionVectors") == "false", name
    assert configuration.get("delta.columnMapping.mode", "none") == "none", name
    # Nothing in the log mentions deletion vectors either.
    add_actions = pa.table(table.get_add_actions(flatten=True)).to_pydict()
    assert not any(
        key.startswith("deletionVector") and any(add_actions[key]) for key in add_actions
    )


@pytest.mark.parametrize("name", sorted(TABLES))
def test_column_comments_reach_non_spark_readers(tiny, name):
    schema = DeltaTable(delta.table_path(tiny.warehouse, name)).schema()
    comments = {field.name: field.metadata.get("comment") for field in schema.fields}
    assert comments == {c.name: c.comment for c in TABLES[name].columns}
    assert DeltaTable(delta.table_path(tiny.warehouse, name)).metadata().description == (
        TABLES[name].comment
    )


def doc_snippet(tag: str, warehouse: str) -> str:
    """The ```python block after ``<!-- snippet: tag -->`` in README.md, pointed at
    ``warehouse`` (the snippets start with ``WAREHOUSE = "..."``)."""
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(rf"<!-- snippet: {tag} -->\s*```python\n(.*?)```", text, re.S)
    assert match, f"no '{tag}' snippet in {DOCS}"
    code, n = re.subn(
        r'^WAREHOUSE = "[^"]*"', f"WAREHOUSE = {warehouse!r}", match.group(1), count=1, flags=re.M
    )
    assert n == 1, f"the '{tag}' snippet must start with WAREHOUSE = \"...\""
    return code


def test_docs_duckdb_snippet_runs(tiny, monkeypatch):
    # The snippet installs the delta extension as a plain user would (a download); here the
    # snippet's connection uses the duckdb-ext-delta wheel's folder, where it is installed.
    import duckdb
    import duckdb_ext

    connect = duckdb.connect
    extensions = str(Path(next(iter(duckdb_ext.__path__))) / "extensions")
    monkeypatch.setattr(
        duckdb, "connect", lambda: connect(config={"extension_directory": extensions})
    )
    scope: dict[str, object] = {}
    exec(doc_snippet("duckdb", tiny.warehouse), scope)
    top = scope["top"]
    assert len(top) == 10 and top["fitness"].is_monotonic_decreasing


def test_docs_deltalake_snippet_runs(tiny):
    scope: dict[str, object] = {}
    exec(doc_snippet("deltalake", tiny.warehouse), scope)
    frame = scope["country_year"]
    assert len(frame) == read_deltalake(delta.table_path(tiny.warehouse, "country_year")).num_rows
    assert scope["comments"]["fitness"] == next(
        c.comment for c in TABLES["country_year"].columns if c.name == "fitness"
    )
    assert len(scope["cpy"]) > 0 and scope["previous"] is not None


def test_docs_spark_sql_snippet_runs(spark, tiny):
    scope: dict[str, object] = {}
    exec(doc_snippet("spark-sql", tiny.warehouse), scope)
    assert len(scope["top"]) == 10
