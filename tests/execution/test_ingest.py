"""Ingest into Delta: accounting identity, idempotent re-ingest, run id on commits, BI readers."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from lib.execution.ingest import ingest_release
from lib.io import delta
from lib.io.baci import discover_release
from lib.io.bi import duckdb_with_delta
from tests.io.test_baci import write_release

ROWS = [
    "2001,251,842,010111,10.5,        1.000",
    "2001,251,842,847130,abc,        1.000",
    "2001,842,251,847130,7.25,           NA",
    "2001,4,490,847130,2.0,",
    "2001,4,4,847130,2.0,",
]


@pytest.fixture()
def release(tmp_path):
    folder = write_release(tmp_path / "rel", ROWS)
    (folder / "BACI_HS92_Y2002_V202401.csv").write_text(
        "t,i,j,k,v,q\n2002,251,842,010111,11.0,1.0\n2002,490,842,9999AA,1.5,NA\n"
    )
    return discover_release(str(folder))


def test_ingest_accounts_for_every_row_and_is_idempotent(spark, warehouse, release):
    wh = str(warehouse)
    report = ingest_release(spark, release, wh, "run-1", optimize=True)
    assert report.rows_read == {2001: 5, 2002: 2}
    assert report.rows_accepted == {2001: 3, 2002: 2}
    assert report.rows_quarantined == {2001: 2}
    assert (
        report.totals["rows_read"]
        == report.totals["rows_accepted"] + report.totals["rows_quarantined"]
    )

    flows = delta.read_table(spark, wh, delta.FLOWS)
    first = sorted(map(tuple, flows.collect()))
    assert len(first) == 5
    assert flows.where("release != 'V202401' OR hs_revision != 'HS92'").count() == 0

    ingest_release(spark, release, wh, "run-2", optimize=False)
    again = sorted(map(tuple, delta.read_table(spark, wh, delta.FLOWS).collect()))
    assert again == first  # no duplicates after re-ingest
    assert delta.read_table(spark, wh, delta.QUARANTINE).count() == 2

    # every commit carries its run id
    history = DeltaTable(delta.table_path(wh, delta.FLOWS)).history()
    run_ids = {json.loads(h["userMetadata"])["run_id"] for h in history if h.get("userMetadata")}
    assert {"run-1", "run-2"} <= run_ids


def test_tables_read_back_without_spark(spark, warehouse, release):
    wh = str(warehouse)
    ingest_release(spark, release, wh, "run-1", optimize=False)
    flows = DeltaTable(delta.table_path(wh, delta.FLOWS)).to_pandas()
    assert len(flows) == 5
    assert flows["product"].str.len().eq(6).all()
    assert set(flows["year"]) == {2001, 2002}
    con = duckdb_with_delta()
    n, total = con.execute(
        f"SELECT count(*), sum(value) FROM delta_scan('{delta.table_path(wh, delta.FLOWS)}')"
    ).fetchone()
    assert n == 5 and total == pytest.approx(10.5 + 7.25 + 2.0 + 11.0 + 1.5)
    quarantine = DeltaTable(delta.table_path(wh, delta.QUARANTINE)).to_pandas()
    assert set(quarantine["reason"]) == {"value is not a number", "exporter equals importer"}
    assert set(quarantine["line_number"]) == {3, 6}
    countries = DeltaTable(delta.table_path(wh, delta.COUNTRIES)).to_pandas()
    assert countries.set_index("country_code").loc[490, "iso3"] == "S19"


# Blocks of 64 bytes: one or two lines each, so a file streams in many blocks (row groups of
# one Parquet file with the arrow writer); a cap of one returned reject makes 2001's
# quarantine come from the second read kept for files with very many rejects.
SMALL_BLOCKS = {"block_bytes": 64, "max_returned_rejects": 1}


def test_arrow_and_spark_writers_give_the_same_tables(spark, tmp_path, release):
    """The flows written by the tasks with pyarrow (output.writer = arrow) equal those
    written by Spark's Delta writer, quarantine and counts included, whatever the blocks."""
    results = {}
    runs = {
        "arrow": ("arrow", {}),
        "spark": ("spark", {}),
        "arrow_small_blocks": ("arrow", SMALL_BLOCKS),
        "spark_small_blocks": ("spark", SMALL_BLOCKS),
    }
    for name, (writer, options) in runs.items():
        wh = str(tmp_path / name)
        report = ingest_release(
            spark, release, wh, "run-1", optimize=False, writer=writer, **options
        )
        tables = {
            delta.FLOWS: sorted(map(tuple, delta.read_table(spark, wh, delta.FLOWS).collect())),
            delta.QUARANTINE: sorted(
                map(tuple, delta.read_table(spark, wh, delta.QUARANTINE).drop("run_id").collect())
            ),
        }
        results[name] = (
            report.rows_read,
            report.rows_accepted,
            report.quarantine_reasons,
            tables,
        )
    for name in runs:
        assert results[name] == results["arrow"], name
    assert len(results["arrow"][3][delta.FLOWS]) == 5
    # one Parquet file a year however many blocks: a row group per block
    flows = DeltaTable(delta.table_path(str(tmp_path / "arrow_small_blocks"), delta.FLOWS))
    row_groups = sorted(pq.ParquetFile(uri).num_row_groups for uri in flows.file_uris())
    assert len(row_groups) == 2 and row_groups[-1] > 1


def test_quarantine_comes_from_the_tasks_single_pass(spark, tmp_path, release):
    """The rejected lines the tasks returned are written as they are: the files are not read
    again (here they no longer exist), unless a task had too many to return."""
    from lib.execution.ingest import FileReading, _write_quarantine, write_flows_with_arrow
    from lib.io.baci import read_country_codes, read_product_codes

    reading = FileReading.of(
        read_country_codes(release.country_file), read_product_codes(release.product_file)
    )
    batch = list(release.flow_files)
    wh = str(tmp_path / "wh")
    meta = {"baci_release": release.release}
    summaries = write_flows_with_arrow(spark, batch, reading, release, wh, "run-1", meta)
    for flow in batch:
        Path(flow.source.path).unlink()
    _write_quarantine(spark, batch, summaries, reading, wh, "auto", "run-1", meta)
    rows = delta.read_table(spark, wh, delta.QUARANTINE).collect()
    assert sorted((r["source_year"], r["line_number"], r["reason"]) for r in rows) == [
        (2001, 3, "value is not a number"),
        (2001, 6, "exporter equals importer"),
    ]
    overflow = [{**s, "rejects": None, "overflow": True} for s in summaries]
    with pytest.raises(Exception, match="BACI_HS92_Y200"):  # now it must read them
        _write_quarantine(spark, batch, overflow, reading, wh, "auto", "run-1", meta)
