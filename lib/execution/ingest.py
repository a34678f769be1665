"""BACI release -> Delta tables ``baci_flows``, ``baci_quarantine``, ``baci_countries``, ``baci_products``.

Every data line of every flow file ends up exactly once: accepted into ``baci_flows`` or, with its
file, line number and reason, in ``baci_quarantine``; the counts are returned and logged, so
rows read = rows accepted + rows quarantined. File-level problems (missing columns, empty file,
unreadable zip, missing code list, mixed releases) stop the run before anything is written.

Re-ingesting a year replaces it: each batch of years is written with ``replaceWhere`` in one
commit per table, so a rerun never duplicates rows and a killed run can simply be run again.

Incremental runs (``skip_unchanged``): each ingested flow file leaves a fingerprint (name, size,
modification time, the code lists' content and the code version) in the small table
``baci_ingest_files``; a file whose fingerprint is unchanged is not read again.

Each yearly file is read by one Spark task (``spark.range`` with one partition per file, so
neither the shuffle partitions nor adaptive execution change it), streamed in bounded blocks
(``lib.io.baci.FlowFileReader``) and checked once: the accepted rows and the rejected lines come
out of the same pass. The accepted rows are written in one of two ways (``output.writer``): the
task writes them as one Parquet file a year with pyarrow, row group by row group, and the driver
commits the batch's files in one transaction (``lib.io.delta_arrow``; no row enters the JVM); or
they stream from the task into Spark's Delta writer. Either way each task also returns a
one-row summary of its file: the line counts, the file's Delta action, and its rejected lines
(the driver writes them to the quarantine). With Spark's writer the summaries travel as
observed metrics of the write (``DataFrame.observe``), the public way for tasks to report on the
rows they produced.

WHY rejected lines in the summary: they are few (none in a sound BACI file), and the driver
writes the quarantine with Spark, so no task needs write access for it. A file with more than
``REJECTS_IN_RESULT`` rejected lines (a wrong file rather than wrong lines) is the exception:
its counts still come from the one pass, its quarantine rows from a second read of that file.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from lib.io import delta, delta_arrow
from lib.io.baci import (
    ACCEPTED_SCHEMA,
    BLOCK_BYTES,
    REJECTED_SCHEMA,
    BaciRelease,
    FlowFile,
    FlowFileReader,
    fingerprint,
    open_source,
    read_country_codes,
    read_flow_header,
    read_product_codes,
)
from lib.io.delta import session_conf
from lib.io.delta_arrow import DataFileWriter, use_arrow_writer
from lib.run import progress
from lib.run.versions import INGEST_MODULES, code_fingerprint
from lib.tables import TABLES

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


@dataclass
class IngestReport:
    release: str
    hs_revision: str
    years: list[int]
    rows_read: dict[int, int] = field(default_factory=dict)
    rows_accepted: dict[int, int] = field(default_factory=dict)
    rows_quarantined: dict[int, int] = field(default_factory=dict)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    unchanged_years: list[int] = field(default_factory=list)  # skipped: same fingerprint

    @property
    def ingested_years(self) -> list[int]:
        return sorted(self.rows_read)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "rows_read": sum(self.rows_read.values()),
            "rows_accepted": sum(self.rows_accepted.values()),
            "rows_quarantined": sum(self.rows_quarantined.values()),
        }


def check_flow_headers(release: BaciRelease) -> None:
    """Fail fast, before any write, on a flow file that is empty or lacks BACI's columns."""
    for flow in release.flow_files:
        with open_source(flow.source) as stream:
            read_flow_header(stream.read(65536), flow.source.display)


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


def flow_fingerprints(release: BaciRelease) -> dict[int, str]:
    """Per year, a key that changes when the flow file, a code list or the code changes.

    Flow files (hundreds of MB) are identified by name, size and modification time; the code
    lists (small) by their content, so an identical copy of them changes nothing.
    """
    code_lists = hashlib.sha256()
    for source in (release.country_file, release.product_file):
        with open_source(source) as stream:
            code_lists.update(stream.read())
    code_lists = code_lists.hexdigest()
    keys = {}
    for flow in release.flow_files:
        text = f"{code_fingerprint(only=INGEST_MODULES)}|{fingerprint(flow.source)}|{code_lists}"
        keys[flow.year] = hashlib.sha256(text.encode()).hexdigest()[:20]
    return keys


def ingested_fingerprints(spark: SparkSession, warehouse: str) -> dict[int, str]:
    """year -> fingerprint of the file its flows came from (empty before the first ingest)."""
    if not (
        delta.table_exists(spark, warehouse, INGEST_FILES)
        and delta.table_exists(spark, warehouse, delta.FLOWS)
    ):
        return {}
    rows = delta.read_arrow(spark, warehouse, INGEST_FILES, ["year", "fingerprint"])
    return {r["year"]: r["fingerprint"] for r in rows.to_pylist()}  # one row per year


def ingest_release(
    spark: SparkSession,
    release: BaciRelease,
    warehouse: str,
    run_id: str,
    optimize: bool = True,
    files_per_batch: int | None = None,
    skip_unchanged: bool = False,
    writer: str = "auto",
    **reading_options,
) -> IngestReport:
    """Ingest the release's flow files (with ``skip_unchanged``, only the new or changed ones).

    ``writer``: how the flows table is written (``use_arrow_writer``); ``reading_options``:
    ``FileReading``'s block size and returned rejects.
    """
    report = IngestReport(release.release, release.hs_revision, release.years)
    keys = flow_fingerprints(release)
    done = ingested_fingerprints(spark, warehouse) if skip_unchanged else {}
    flows = [f for f in release.flow_files if done.get(f.year) != keys[f.year]]
    report.unchanged_years = sorted(set(release.years) - {f.year for f in flows})
    if report.unchanged_years:
        progress.advance(len(report.unchanged_years), detail="unchanged files, not read again")
    if not flows:
        return report

    countries = read_country_codes(release.country_file)
    products = read_product_codes(release.product_file)
    check_flow_headers(release)
    meta = {"baci_release": release.release, "hs_revision": release.hs_revision}
    stamp = {"hs_revision": release.hs_revision, "release": release.release}
    # A year left unchanged had these very code lists (they are part of every fingerprint).
    if not report.unchanged_years:
        for name, codes in ((delta.COUNTRIES, countries), (delta.PRODUCTS, products)):
            columns = {k: v for k, v in stamp.items() if k in TABLES[name].column_names}
            rows = _stamped(pa.Table.from_pandas(codes, preserve_index=False), columns)
            delta.write_arrow_rows(
                spark, rows, warehouse, name, run_id, writer=writer, metadata=meta
            )

    batch_size = files_per_batch or FILES_PER_BATCH
    arrow_writer = use_arrow_writer(writer, warehouse)
    reading = FileReading.of(countries, products, **reading_options)
    for start in range(0, len(flows), batch_size):
        batch = flows[start : start + batch_size]
        years = [f.year for f in batch]
        write_flows = write_flows_with_arrow if arrow_writer else write_flows_with_spark
        with progress.finished_tasks() as finished:  # the stage advances file by file
            summaries = write_flows(
                spark, batch, reading, release, warehouse, run_id, meta, finished.folder
            )
        counts = {s["file_index"]: json.loads(s["counts"]) for s in summaries}
        if sorted(counts) != list(range(len(batch))):
            raise RuntimeError(f"line counts missing for some of the files of {years}")
        _write_quarantine(spark, batch, summaries, reading, warehouse, writer, run_id, meta)
        for i, flow in enumerate(batch):
            _count(report, flow.year, counts[i])
        _record_fingerprints(spark, warehouse, run_id, release, batch, keys, report, writer)
        rows = sum(counts[i]["read"] for i in range(len(batch)))
        progress.advance(
            len(batch) - finished.count, detail=f"{_years_text(years)}: {rows:,} rows read"
        )

    # The arrow writer already writes one file a year: nothing to compact.
    if optimize and not arrow_writer:
        progress.update("compacting the flows (OPTIMIZE)")
        ingested = [f.year for f in flows]
        spark.sql(
            f"OPTIMIZE delta.`{delta.table_path(warehouse, delta.FLOWS)}` "
            f"WHERE {delta.year_predicate(ingested)}"
        )
    return report


def write_flows_with_arrow(
    spark: SparkSession,
    batch: list[FlowFile],
    reading: FileReading,
    release: BaciRelease,
    warehouse: str,
    run_id: str,
    meta: dict[str, str],
    marks: str | None = None,
) -> list[dict]:
    """Replace the batch's years of the flows table: each task streams a yearly file and writes
    its accepted rows as one Parquet file, a row group per block; the driver commits the files
    in one transaction. Returns the tasks' summaries (``FILE_SUMMARY``)."""
    table_uri = delta.table_path(warehouse, delta.FLOWS)
    delta.ensure_table(spark, table_uri, TABLES[delta.FLOWS])
    stamp = {"hs_revision": release.hs_revision, "release": release.release}

    def write_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for record in batches:
            for index in record.column("file_index").to_pylist():
                flow = batch[index]
                reader = reading.reader(flow)
                writer = DataFileWriter(table_uri, delta.FLOWS, {"year": flow.year})
                rejects = _Rejects(reading.max_returned_rejects)
                for block in reader.blocks():
                    writer.write(_stamped(block.accepted(), stamp))
                    rejects.add(block.rejected())
                add = writer.close()
                progress.mark_finished(marks, str(flow.year))  # lib.run.progress.finished_tasks
                yield from _summary(index, reader, add, rejects).to_batches()

    files = _file_indexes(spark, len(batch))
    summaries = [
        row.asDict() for row in files.mapInArrow(write_partition, FILE_SUMMARY_SPARK).collect()
    ]
    delta_arrow.commit_files(
        table_uri,
        [json.loads(s["add"]) for s in summaries if s["add"]],
        {"year": [f.year for f in batch]},
        delta.commit_metadata(run_id, **meta),
    )
    return summaries


def write_flows_with_spark(
    spark: SparkSession,
    batch: list[FlowFile],
    reading: FileReading,
    release: BaciRelease,
    warehouse: str,
    run_id: str,
    meta: dict[str, str],
    marks: str | None = None,
) -> list[dict]:
    """The same through Spark's Delta writer: the tasks' accepted rows stream into it, and each
    task's summary row is taken out of the written rows as an observed metric of the write."""

    def parse_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for record in batches:
            for index in record.column("file_index").to_pylist():
                reader = reading.reader(batch[index])
                rejects = _Rejects(reading.max_returned_rejects)
                for block in reader.blocks():
                    yield from _padded(block.accepted(), PARSED_WITH_SUMMARY).to_batches()
                    rejects.add(block.rejected())
                summary = _summary(index, reader, None, rejects)
                progress.mark_finished(marks, str(batch[index].year))
                yield from _padded(summary, PARSED_WITH_SUMMARY).to_batches()

    parsed = _file_indexes(spark, len(batch)).mapInArrow(parse_partition, PARSED_WITH_SUMMARY_SPARK)
    is_summary = F.col("counts").isNotNull()
    observation = Observation(f"ingest_files_{uuid.uuid4().hex}")
    observed = parsed.observe(
        observation,
        F.collect_list(F.when(is_summary, F.struct(*FILE_SUMMARY.names))).alias("files"),
    )
    with session_conf(spark, FLOWS_WRITE):
        delta.write_table(
            observed.where(~is_summary).select(*FLOW_COLUMNS, *_release_columns(release)),
            warehouse,
            delta.FLOWS,
            run_id,
            replace_where=delta.year_predicate([f.year for f in batch]),
            partition_by=["year"],
            metadata=meta,
        )
    return [row.asDict() for row in observation.get["files"]]


def _write_quarantine(
    spark: SparkSession,
    batch: list[FlowFile],
    summaries: list[dict],
    reading: FileReading,
    warehouse: str,
    writer: str,
    run_id: str,
    meta: dict[str, str],
) -> None:
    """Replace the batch's years of the quarantine with their rejected lines: those the tasks
    returned (on the driver), and those of files with too many to return, read again by
    Spark (see the module's docstring)."""
    tables = [
        pa.ipc.open_stream(s["rejects"]).read_all() for s in summaries if s["rejects"] is not None
    ]
    returned = pa.concat_tables(tables) if tables else REJECTED_SCHEMA.empty_table()
    stamp = {"release": meta["baci_release"], "run_id": run_id}
    replace = delta.year_predicate([f.year for f in batch], "source_year")
    overflow = [batch[s["file_index"]] for s in summaries if s["overflow"]]
    if not overflow:
        delta.write_arrow_rows(
            spark,
            _stamped(returned, stamp),
            warehouse,
            delta.QUARANTINE,
            run_id,
            writer=writer,
            replace_where=replace,
            metadata=meta,
        )
        return
    rows = spark.createDataFrame(returned, REJECTED_SPARK_SCHEMA).unionByName(
        _rejected_lines(spark, overflow, reading)
    )
    delta.write_table(
        rows.select("*", *[F.lit(v).alias(k) for k, v in stamp.items()]),
        warehouse,
        delta.QUARANTINE,
        run_id,
        replace_where=replace,
        metadata=meta,
    )


def _rejected_lines(spark: SparkSession, flows: list[FlowFile], reading: FileReading) -> DataFrame:
    """The rejected lines of ``flows`` (one task per file)."""

    def parse_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for record in batches:
            for index in record.column("file_index").to_pylist():
                for block in reading.reader(flows[index]).blocks():
                    yield from block.rejected().to_batches()

    return _file_indexes(spark, len(flows)).mapInArrow(parse_partition, REJECTED_SPARK_SCHEMA)


def _release_columns(release: BaciRelease) -> list:
    """The columns stamping every flow and product row with its release."""
    return [
        F.lit(release.hs_revision).alias("hs_revision"),
        F.lit(release.release).alias("release"),
    ]


def _years_text(years: list[int]) -> str:
    return str(years[0]) if len(years) == 1 else f"{min(years)}-{max(years)}"


def _accepted(counts: dict[str, int]) -> int:
    return counts["read"] - sum(n for kind, n in counts.items() if kind != "read")


def _count(report: IngestReport, year: int, counts: dict[str, int]) -> None:
    report.rows_read[year] = counts["read"]
    report.rows_accepted[year] = _accepted(counts)
    if counts["read"] > report.rows_accepted[year]:
        report.rows_quarantined[year] = counts["read"] - report.rows_accepted[year]
    for kind, n in counts.items():
        if kind != "read":
            report.quarantine_reasons[kind] = report.quarantine_reasons.get(kind, 0) + n


def _record_fingerprints(
    spark: SparkSession,
    warehouse: str,
    run_id: str,
    release: BaciRelease,
    batch: list[FlowFile],
    keys: dict[int, str],
    report: IngestReport,
    writer: str,
) -> None:
    """Replace the batch's years in ``baci_ingest_files``, after their flows are committed."""
    rows = pa.table(
        {
            "year": [f.year for f in batch],
            "source_file": [f.source.name for f in batch],
            "fingerprint": [keys[f.year] for f in batch],
            "release": [release.release] * len(batch),
            "rows_read": [report.rows_read[f.year] for f in batch],
            "rows_accepted": [report.rows_accepted[f.year] for f in batch],
            "run_id": [run_id] * len(batch),
        }
    )
    delta.write_arrow_rows(
        spark,
        rows,
        warehouse,
        INGEST_FILES,
        run_id,
        writer=writer,
        replace_where=delta.year_predicate([f.year for f in batch]),
    )
