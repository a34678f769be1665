"""The two ways the accepted flows reach ``baci_flows`` (``output.writer``), and the quarantine of the rejected lines.

``write_flows_with_arrow``: each task writes its year as one Parquet file with pyarrow and the
driver commits the files of a batch in one transaction; ``write_flows_with_spark``: the rows
stream into the Delta writer of Spark and the summaries travel as observed metrics. Either way
one commit a table per batch of years, with ``replaceWhere``, so a rerun replaces and never
duplicates.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from lib.execution.ingest.reading import (
    FILE_SUMMARY,
    FILE_SUMMARY_SPARK,
    FLOW_COLUMNS,
    FLOWS_WRITE,
    PARSED_WITH_SUMMARY,
    PARSED_WITH_SUMMARY_SPARK,
    REJECTED_SPARK_SCHEMA,
    FileReading,
    _file_indexes,
    _padded,
    _Rejects,
    _stamped,
    _summary,
)
from lib.io import delta, delta_arrow
from lib.io.baci import (
    REJECTED_SCHEMA,
    BaciRelease,
    FlowFile,
)
from lib.io.delta import session_conf
from lib.io.delta_arrow import DataFileWriter
from lib.run import progress
from lib.tables import TABLES


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
    # The commit is planned on this version: a conflicting commit by another job meanwhile
    # makes this one lose with a clear error (delta_arrow.ConcurrentCommitError).
    read_version = delta_arrow.table_version(table_uri)
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
        read_version=read_version,
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
