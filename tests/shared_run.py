"""One pipeline run on a tiny release, shared by the tests that only read its warehouse (BI
readers, catalog, cluster, maintenance, recovery, incremental runs), and the comparison of a
table as two readers see it. A full test session runs the pipeline once for all of them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow as pa
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from lib.datasets.synthetic import SizeSpec, flow_file_name, generate_release
from lib.io import delta

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Two years, one ingest batch: the fewest Spark jobs that still exercise every table.
TINY = SizeSpec((2018, 2019), n_countries=20, n_products=150, flows_per_year=1500, name="tiny2")
CATALOG_DATABASE = "ecx_shared_test"
# Lines no BACI file should have, so that baci_quarantine has rows for the readers to compare.
BAD_LINES = "2018,36,36,853611,2.421,1.000\n2019,36,50,853611,1.500,NA\n"
# The shared run's settings besides the defaults (a job compared with it passes them too):
# with two years, a horizon of 1 gives the prediction backtests a year (the default 5, none).
TINY_JOB_ARGS = ("--set", "prediction.horizon=1")


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
    with open(release / flow_file_name(2018), "a", encoding="utf-8") as handle:
        handle.write(BAD_LINES)
    return release


# Session settings a job sets for its own writes (lib.run.workflow.job_settings); it must put them
# back, so that a user's notebook session (and later tests on the shared session) does not
# inherit them.
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
    with (
        mock.patch.object(sys, "argv", ["fitness.py", *args]),
        mock.patch.object(SparkSession, "stop", lambda self: None),
    ):
        runpy.run_path(str(PROJECT_ROOT / "jobs" / "fitness.py"), run_name="__main__")
    assert session_settings(spark) == saved, "the job left its session settings behind"
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
            *TINY_JOB_ARGS,
        )
        _SHARED["run"] = TinyRun(release, warehouse, run_id)
    return _SHARED["run"]


# --- reading a table three ways and comparing ----------------------------------------------


def read_spark(spark, path: str) -> pa.Table:
    return spark.read.format("delta").load(path).toArrow()


def read_deltalake(path: str) -> pa.Table:
    return DeltaTable(path).to_pyarrow_table()


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


def assert_same_warehouse(spark, warehouse: str, reference: str, what: str) -> None:
    """The same tables, each with the same rows (floats to 1e-9; run ids ignored; the run
    log's single row compared by ``assert_same_run_log``)."""
    from lib.io.catalog import list_tables
    from lib.tables import BACI_RUN_TABLES

    names = list_tables(spark, reference)
    assert set(BACI_RUN_TABLES) <= set(names)
    assert list_tables(spark, warehouse) == names
    for name in names:
        ours = read_deltalake(delta.table_path(warehouse, name))
        theirs = read_deltalake(delta.table_path(reference, name))
        if name == delta.RUN_LOG:
            assert_same_run_log(ours, theirs)
        else:
            assert_same_table(ours, theirs, f"{what} {name}", tolerance=1e-9, ignore=("run_id",))


def assert_same_run_log(ours, reference) -> None:
    """One run each; the same job, inputs, years and row counts. Run ids, times, the output
    section of the config (warehouse, catalog database) and Spark tuning differ by design."""
    [a] = ours.to_pylist()
    [b] = reference.to_pylist()
    for key in ("job", "status", "code_version", "source", "baci_release", "years", "error"):
        assert a[key] == b[key], key
    for key in ("row_counts", "input_versions"):
        assert dict(a[key]) == dict(b[key]), key
    config_a, config_b = json.loads(a["config"]), json.loads(b["config"])
    for section in ("output", "spark"):
        config_a.pop(section), config_b.pop(section)
    assert config_a == config_b
