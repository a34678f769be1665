"""Every output table reads the same in Spark, delta-rs (deltalake) and DuckDB.

BI tools and notebooks read the tables without Spark; this runs the main pipeline once on a tiny
release and compares each table as the three readers see it (same columns, same rows, floats to
1e-12), checks the protocol stays readable (reader version 1, no deletion vectors, no column
mapping), that column comments reach a non-Spark reader, and that the snippets of
docs/reading-tables.md run as written.

The pipeline run is shared through ``shared_tiny_run`` with tests/io/test_catalog.py and
tests/test_cluster.py, so a full test session runs it once.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from lib.io import delta
from lib.io.bi import duckdb_with_delta
from lib.io.catalog import list_tables
from lib.tables import BACI_RUN_TABLES, TABLES
from tests.shared_run import (
    TinyRun,
    assert_same_table,
    read_deltalake,
    read_spark,
    shared_tiny_run,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCS = PROJECT_ROOT / "docs" / "reading-tables.md"


def read_duckdb(con, path: str) -> pa.Table:
    return con.execute("SELECT * FROM delta_scan(?)", [path]).fetch_arrow_table()


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
    assert set(BACI_RUN_TABLES) <= set(names)
    assert sorted(list_tables(spark, tiny.warehouse)) == names
    assert read_deltalake(delta.table_path(tiny.warehouse, delta.QUARANTINE)).num_rows == 2


@pytest.mark.parametrize("name", sorted(BACI_RUN_TABLES))
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


@pytest.mark.parametrize("name", sorted(BACI_RUN_TABLES))
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


@pytest.mark.parametrize("name", sorted(BACI_RUN_TABLES))
def test_column_comments_reach_non_spark_readers(tiny, name):
    schema = DeltaTable(delta.table_path(tiny.warehouse, name)).schema()
    comments = {field.name: field.metadata.get("comment") for field in schema.fields}
    assert comments == {c.name: c.comment for c in TABLES[name].columns}
    assert DeltaTable(delta.table_path(tiny.warehouse, name)).metadata().description == (
        TABLES[name].comment
    )


def doc_snippet(tag: str, warehouse: str) -> str:
    """The ```python block after ``<!-- snippet: tag -->`` in docs/reading-tables.md, pointed at
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


def test_readme_backtest_query_runs(tiny, duck):
    # The README tells a user to read the backtest before trusting a score: its query, as
    # written, on a warehouse with backtest years (the tiny run uses prediction.horizon = 1).
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r'con\.sql\(\s*("SELECT method.*?")\s*\)\s*\)', readme, re.S)
    assert match, "no backtest query in README.md"
    query = "".join(re.findall(r'"([^"]*)"', match.group(1)))
    rows = duck.sql(query.replace("'warehouse/", f"'{tiny.warehouse}/")).df()
    backtest = read_deltalake(delta.table_path(tiny.warehouse, "prediction_backtest"))
    assert len(rows) == backtest.num_rows > 0
    assert ((rows["base_rate"] > 0) & (rows["base_rate"] < 1)).all()
    assert list(rows["train_year"]) == sorted(rows["train_year"])  # one method in the tiny run
