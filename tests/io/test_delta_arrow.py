"""Delta tables written from Arrow: files, statistics, constraints and the one-commit replace,
checked against what Spark's own Delta writer produces and against delta-rs and DuckDB."""

from __future__ import annotations

import json
import math

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from lib.io import delta
from lib.io.bi import duckdb_with_delta
from lib.io.delta_arrow import (
    ConstraintViolationError,
    DataFileWriter,
    check_constraints,
    column_stats,
    commit_files,
    data_files_by_year,
    write_data_file,
)
from lib.tables import TABLES


def flows(exporters, values, products=None, quantity=None) -> pa.Table:
    n = len(exporters)
    return pa.table(
        {
            "exporter": pa.array(exporters, pa.int32()),
            "importer": pa.array([842] * n, pa.int32()),
            "product": pa.array(products or ["010111"] * n),
            "value": pa.array(values, pa.float64()),
            "quantity": pa.array(quantity or [None] * n, pa.float64()),
            "hs_revision": pa.array(["HS92"] * n),
            "release": pa.array(["V202401"] * n),
        }
    )


def test_a_file_written_in_pieces_equals_the_file_written_whole(tmp_path):
    """The streaming writer (lib.execution.ingest writes a year's flows block by block) gives the same
    rows and the same statistics as one write of all the rows; NaN in one piece drops the
    column's bounds, an all-null piece leaves them alone."""
    pieces = [
        flows([4, 251], [1.0, 2.0], quantity=[None, None]),
        flows([], []).cast(flows([4], [1.0]).schema),
        flows([490], [3.0], products=["847130"], quantity=[float("nan")]),
        flows([251, 4], [0.5, 9.0], products=["9999AA", "010111"], quantity=[None, 1.0]),
    ]
    whole = pa.concat_tables(pieces)
    uri = str(tmp_path / "baci_flows")
    writer = DataFileWriter(uri, "baci_flows", {"year": 2001})
    for piece in pieces:
        writer.write(piece)
    streamed = writer.close()["add"]
    at_once = write_data_file(whole, uri, "baci_flows", {"year": 2001})["add"]
    assert json.loads(streamed["stats"]) == json.loads(at_once["stats"])
    bounds = json.loads(streamed["stats"])["minValues"]
    assert "quantity" not in bounds  # the NaN
    assert bounds["value"] == 0.5 and bounds["exporter"] == 4 and bounds["product"] == "010111"
    read = pq.ParquetFile(f"{uri}/{streamed['path']}")
    assert read.num_row_groups == 3  # the empty piece writes nothing
    pd.testing.assert_frame_equal(
        read.read().to_pandas(), pq.read_table(f"{uri}/{at_once['path']}").to_pandas()
    )
    assert DataFileWriter(uri, "baci_flows", {"year": 2002}).close() is None


def test_column_stats_follow_delta():
    table = pa.table(
        {
            "i": pa.array([3, None, -2], pa.int32()),
            "x": pa.array([1.5, 2.5, None]),
            "nan": pa.array([1.0, math.nan, 2.0]),
            "s": pa.array(["b", "a", None]),
            "long": pa.array(["x" * 33, "y", "z"]),
            "empty": pa.nulls(3, pa.float64()),
        }
    )
    stats = column_stats(table)
    assert stats["numRecords"] == 3
    assert stats["minValues"] == {"i": -2, "x": 1.5, "s": "a"}
    assert stats["maxValues"] == {"i": 3, "x": 2.5, "s": "b"}
    assert stats["nullCount"] == {"i": 1, "x": 1, "nan": 0, "s": 1, "long": 0, "empty": 3}


@pytest.mark.parametrize(
    ("table", "year", "message"),
    [
        (flows([251], [-1.0]), 2001, "value_positive"),
        (flows([842], [1.0]), 2001, "not_self_trade"),
        (flows([251], [1.0], products=["10111"]), 2001, "product_hs6"),
        (flows([251], [1.0]), 1800, "year_range"),
        (flows([251], [None]), 2001, "null value"),
    ],
)
def test_constraints_of_the_table_are_checked(table, year, message):
    with pytest.raises(ConstraintViolationError, match=message):
        check_constraints(table, delta.FLOWS, {"year": year})


def test_a_file_breaking_a_constraint_is_not_written(warehouse):
    table_uri = delta.table_path(str(warehouse), delta.FLOWS)
    with pytest.raises(ConstraintViolationError, match="value_positive"):
        write_data_file(flows([251], [0.0]), table_uri, delta.FLOWS, {"year": 2001})
    assert not any(warehouse.rglob("*.parquet"))


def test_commit_replaces_partitions_atomically(spark, warehouse):
    wh = str(warehouse)
    table_uri = delta.table_path(wh, delta.FLOWS)
    delta.ensure_table(spark, table_uri, TABLES[delta.FLOWS])
    first = [
        write_data_file(flows([251, 4], [1.0, 2.0]), table_uri, delta.FLOWS, {"year": 2001}),
        write_data_file(
            flows([251], [3.0], quantity=[7.0]), table_uri, delta.FLOWS, {"year": 2002}
        ),
    ]
    commit_files(table_uri, first, {"year": [2001, 2002]}, delta.commit_metadata("r1"))
    # The rerun of 2002 replaces it, 2001 stays.
    again = [write_data_file(flows([4, 56], [5.0, 6.0]), table_uri, delta.FLOWS, {"year": 2002})]
    version = commit_files(table_uri, again, {"year": [2002]}, delta.commit_metadata("r2"))

    rows = sorted(
        (r.year, r.exporter, r.value)
        for r in delta.read_table(spark, wh, delta.FLOWS)
        .select("year", "exporter", "value")
        .collect()
    )
    assert rows == [(2001, 4, 2.0), (2001, 251, 1.0), (2002, 4, 5.0), (2002, 56, 6.0)]
    # Data skipping uses the statistics: a filter outside a file's range must not lose rows.
    table = delta.read_table(spark, wh, delta.FLOWS)
    assert [table.where(f"exporter {test}").count() for test in ("= 56", ">= 56", "> 251")] == [
        1,
        2,
        0,
    ]

    history = spark.sql(f"DESCRIBE HISTORY delta.`{table_uri}`").orderBy("version").collect()
    last = history[-1]
    assert last["version"] == version and last["operation"] == "WRITE"
    assert last["operationParameters"]["predicate"] == "year IN (2002)"
    assert json.loads(last["userMetadata"])["run_id"] == "r2"

    # Readers without Spark see the same rows; the constraints are still on the table.
    dt = DeltaTable(table_uri)
    assert sorted(dt.to_pandas()["value"]) == [1.0, 2.0, 5.0, 6.0]
    n = duckdb_with_delta().execute(f"SELECT count(*) FROM delta_scan('{table_uri}')").fetchone()
    assert n == (4,)
    assert "delta.constraints.value_positive" in dt.metadata().configuration

    # The files of each year at each version, as the indicators' reading tasks get them.
    by_year = data_files_by_year(table_uri, version, [2002])
    assert list(by_year) == [2002] and len(by_year[2002]) == 1
    assert sorted(pq.read_table(by_year[2002]).column("value").to_pylist()) == [5.0, 6.0]
    before = data_files_by_year(table_uri, version - 1)
    assert sorted(before) == [2001, 2002]
    assert pq.read_table(before[2002]).column("value").to_pylist() == [3.0]


def test_no_direct_file_reads_where_the_files_may_not_be_the_rows(spark, warehouse):
    """A table that may have deletion vectors (reader version 3) or one on a store the tasks
    do not open with Arrow (ADLS, GCS, HDFS): None, and the pipeline falls back on Spark's
    reader. (S3: tests/io/test_object_stores.py.)"""
    path = str(warehouse / "with_dv")
    spark.range(3).selectExpr("1 AS year", "id").write.format("delta").partitionBy("year").option(
        "delta.enableDeletionVectors", "true"
    ).save(path)
    assert DeltaTable(path).protocol().min_reader_version > 1
    assert data_files_by_year(path) is None
    for uri in ("abfss://c@a.dfs.core.windows.net/wh/t", "gs://b/wh/t", "hdfs://nn/wh/t"):
        assert data_files_by_year(uri) is None


def test_arrow_files_have_the_statistics_spark_writes(spark, warehouse):
    """The same rows written by Spark's Delta writer and by Arrow: equal add-action statistics."""
    rows = flows([251, 4, 56], [1.5, 0.25, 9.0], products=["010111", "847130", "010111"])
    stats = {}
    for writer in ("spark", "arrow"):
        wh = str(warehouse / writer)
        table_uri = delta.table_path(wh, delta.FLOWS)
        if writer == "spark":
            df = spark.createDataFrame(rows.to_pandas()).coalesce(1).selectExpr("2001 AS year", "*")
            delta.write_table(df, wh, delta.FLOWS, "r", replace_where="year IN (2001)")
        else:
            delta.ensure_table(spark, table_uri, TABLES[delta.FLOWS])
            add = write_data_file(rows, table_uri, delta.FLOWS, {"year": 2001})
            commit_files(table_uri, [add], {"year": [2001]}, delta.commit_metadata("r"))
        actions = pa.table(DeltaTable(table_uri).get_add_actions(flatten=True)).to_pandas()
        columns = [
            c
            for c in actions.columns
            if c.startswith(("num_records", "min.", "max.", "null_count."))
        ]
        stats[writer] = actions[sorted(columns)]
    assert len(stats["arrow"].columns) == 22  # numRecords, min, max, nulls of 7 columns
    pd.testing.assert_frame_equal(stats["arrow"], stats["spark"])
