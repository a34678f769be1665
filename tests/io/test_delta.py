"""The Delta writer: tables follow the data dictionary and refuse bad data from any writer."""

from __future__ import annotations

import pytest
from deltalake import DeltaTable

from lib.io import delta
from lib.tables import TABLES

FLOW_SCHEMA = "year int, exporter int, importer int, product string, value double, quantity double, hs_revision string, release string"
GOOD = [(2001, 251, 842, "010111", 1.5, None, "HS92", "V202401")]


@pytest.fixture()
def flows_table(spark, warehouse):
    wh = str(warehouse)
    delta.write_table(
        spark.createDataFrame(GOOD, FLOW_SCHEMA),
        wh,
        delta.FLOWS,
        "run-1",
        replace_where="year IN (2001)",
    )
    return wh


@pytest.mark.parametrize(
    ("row", "constraint"),
    [
        ((2001, 251, 842, "010111", -1.0, None, "HS92", "V202401"), "value_positive"),
        ((2001, 842, 842, "010111", 1.0, None, "HS92", "V202401"), "not_self_trade"),
        ((1800, 251, 842, "010111", 1.0, None, "HS92", "V202401"), "year_range"),
        ((2001, 251, 842, "10111", 1.0, None, "HS92", "V202401"), "product_hs6"),
    ],
)
def test_check_constraints_refuse_bad_rows(spark, flows_table, row, constraint):
    bad = spark.createDataFrame([row], FLOW_SCHEMA)
    with pytest.raises(Exception, match=constraint):
        bad.write.format("delta").mode("append").save(delta.table_path(flows_table, delta.FLOWS))
    assert DeltaTable(delta.table_path(flows_table, delta.FLOWS)).to_pandas().shape[0] == 1


def test_not_null_columns_refuse_nulls(spark, flows_table):
    bad = spark.createDataFrame(
        [(2001, 251, 842, "010111", None, None, "HS92", "V202401")], FLOW_SCHEMA
    )
    with pytest.raises(Exception, match="(?i)null"):
        bad.write.format("delta").mode("append").save(delta.table_path(flows_table, delta.FLOWS))


def test_schema_comments_and_reader_friendly_protocol(flows_table):
    table = DeltaTable(delta.table_path(flows_table, delta.FLOWS))
    protocol = table.protocol()
    assert protocol.min_reader_version == 1
    fields = {f.name: f for f in table.schema().fields}
    assert list(fields) == TABLES[delta.FLOWS].column_names
    assert fields["value"].metadata.get("comment") == "Trade value, thousands of current USD"
    assert not fields["value"].nullable
    assert table.metadata().description.startswith("Bilateral trade flows")
    assert table.metadata().partition_columns == ["year"]
