"""What one ingest task returns for its file: the file indexes spread one a task, the reading options, the rejected lines kept, and the one-row summary of a file.

Shared by both writers (``lib.execution.ingest.writers``); nothing here commits to a table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from lib.io.baci import (
    ACCEPTED_SCHEMA,
    BLOCK_BYTES,
    REJECTED_SCHEMA,
    FlowFile,
    FlowFileReader,
)

FLOW_COLUMNS = ACCEPTED_SCHEMA.names
REJECTED_SPARK_SCHEMA = from_arrow_schema(REJECTED_SCHEMA)
# A batch of files is the unit of commit (and of restart): a whole BACI release (~30 yearly
# files) fits in one, so every file's task can run at once on a large enough cluster.
FILES_PER_BATCH = 32
# Rejected lines a task returns with its file's summary (~100 bytes each); beyond, see above.
REJECTS_IN_RESULT = 50_000
# What a task returns per file: its line counts ({"read": n, reason kind: n}), its Delta add
# action (arrow writer) and its rejected lines (Arrow IPC stream of REJECTED_SCHEMA), or
# ``overflow`` when it had more than REJECTS_IN_RESULT.
FILE_SUMMARY = pa.schema(
    [
        ("file_index", pa.int32()),
        ("counts", pa.string()),
        ("add", pa.string()),
        ("rejects", pa.binary()),
        ("overflow", pa.bool_()),
    ]
)
FILE_SUMMARY_SPARK = from_arrow_schema(FILE_SUMMARY)
# With Spark's writer a task yields its accepted rows, then its summary row, in one schema.
PARSED_WITH_SUMMARY = pa.schema([*ACCEPTED_SCHEMA, *FILE_SUMMARY])
PARSED_WITH_SUMMARY_SPARK = from_arrow_schema(PARSED_WITH_SUMMARY)

# Bookkeeping of incremental ingests: one row per year of the flows table (lib.tables).
INGEST_FILES = "baci_ingest_files"
# Writes of tables partitioned by year whose tasks produce their rows year after year (a yearly
# file, the yearly tasks of the indicators): one open file per year in the task instead of a
# sort of all the task's rows by year first (measured: ~40 % of the JVM time of the flows write).
UNSORTED_PARTITION_WRITES = {"spark.sql.maxConcurrentOutputFileWriters": "64"}
# Flow values and quantities are nearly all distinct: Parquet's dictionary attempt per value
# is wasted work (it falls back to plain encoding anyway).
FLOWS_WRITE = {
    **UNSORTED_PARTITION_WRITES,
    "parquet.enable.dictionary#value": "false",
    "parquet.enable.dictionary#quantity": "false",
}


def _file_indexes(spark: SparkSession, n_files: int) -> DataFrame:
    """Rows 0..n-1 (``file_index``), one per partition: one task per file.

    spark.range splits 0..n-1 evenly and, without a shuffle, neither spark.sql.shuffle.partitions
    nor adaptive execution can merge its partitions: each core gets whole files.
    """
    files = spark.range(0, n_files, numPartitions=max(1, n_files))
    return files.select(F.col("id").cast("int").alias("file_index"))


@dataclass(frozen=True)
class FileReading:
    """What a task needs to read and check a flow file: the code lists, the block size, and
    how many rejected lines it may return (tests lower both)."""

    country_codes: np.ndarray
    product_codes: pa.Array
    block_bytes: int = BLOCK_BYTES
    max_returned_rejects: int = REJECTS_IN_RESULT

    @classmethod
    def of(cls, countries, products, **options) -> FileReading:
        codes = pa.array(products["product"].tolist(), pa.string())
        return cls(countries["country_code"].to_numpy(), codes, **options)

    def reader(self, flow: FlowFile) -> FlowFileReader:
        return FlowFileReader(flow, self.country_codes, self.product_codes, self.block_bytes)


class _Rejects:
    """The rejected lines of one file, kept for the task's summary up to ``cap``."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.tables: list[pa.Table] = []
        self.n_rows = 0
        self.overflow = False

    def add(self, rejected: pa.Table) -> None:
        self.n_rows += rejected.num_rows
        if self.n_rows > self.cap:
            self.overflow, self.tables = True, []
        elif rejected.num_rows:
            self.tables.append(rejected)

    def ipc(self) -> bytes | None:
        if self.overflow or not self.tables:
            return None
        sink = pa.BufferOutputStream()
        options = pa.ipc.IpcWriteOptions(compression="lz4")
        with pa.ipc.new_stream(sink, REJECTED_SCHEMA, options=options) as stream:
            for table in self.tables:
                stream.write_table(table)
        return sink.getvalue().to_pybytes()


def _summary(index: int, reader: FlowFileReader, add: dict | None, rejects: _Rejects) -> pa.Table:
    return pa.table(
        {
            "file_index": [index],
            "counts": [json.dumps({"read": reader.n_lines, **reader.counts})],
            "add": [json.dumps(add) if add else None],
            "rejects": [rejects.ipc()],
            "overflow": [rejects.overflow],
        },
        schema=FILE_SUMMARY,
    )


def _stamped(table: pa.Table, columns: dict[str, str]) -> pa.Table:
    """``table`` with a constant column per item of ``columns`` (the release, the run id)."""
    for column, value in columns.items():
        table = table.append_column(column, pa.repeat(pa.scalar(value), table.num_rows))
    return table


def _padded(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` in ``schema``, the columns it lacks all null."""
    n_rows = table.num_rows
    return pa.table(
        [
            table.column(f.name) if f.name in table.column_names else pa.nulls(n_rows, f.type)
            for f in schema
        ],
        schema=schema,
    )
