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

The flows (one Spark task per yearly file) are written in one of two ways
(``output.writer``): the task writes the accepted rows as a Parquet file with pyarrow and
returns the file's Delta action and line counts, and the driver commits the batch's files in one
transaction (``lib.io.delta_arrow``; no row enters the JVM); or the accepted rows stream from
the task into Spark's Delta writer, the line counts coming back through an accumulator.

WHY a second pass and no cache: only files with rejected lines are parsed a second time, for the
quarantine. Caching the parsed rows instead cost three times the CPU of the write itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from pyspark.accumulators import AccumulatorParam
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import from_arrow_schema

from lib import progress
from lib.code_version import INGEST_MODULES, code_fingerprint
from lib.io import delta, delta_arrow
from lib.io.baci import (
    PARSED_SCHEMA,
    BaciRelease,
    CheckedFlows,
    FlowFile,
    check_flow_file,
    fingerprint,
    open_source,
    read_country_codes,
    read_flow_header,
    read_product_codes,
)
from lib.io.delta import session_conf
from lib.io.delta_arrow import use_arrow_writer, write_data_file
from lib.tables import TABLES, spark_schema

PARSED_SPARK_SCHEMA = from_arrow_schema(PARSED_SCHEMA)  # what the parsing tasks yield
FLOW_COLUMNS = ["year", "exporter", "importer", "product", "value", "quantity"]
ACCEPTED_SPARK_SCHEMA = T.StructType(PARSED_SPARK_SCHEMA.fields[: len(FLOW_COLUMNS)])

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


def reason_kind(reason: str) -> str:
    """Group reasons by their kind ("duplicate of line 12" -> "duplicate of line")."""
    return reason.split(" (")[0].rstrip("0123456789 ").strip()


class _LineCounts(AccumulatorParam):
    """{file index: {"read": n, reason kind: n, ...}} gathered from the tasks.

    WHY replace, not add: a file is counted whole by the one task that parses it, and Spark may
    apply the update of a retried (or speculative) task twice; keeping the last complete count
    of each file stays exact where a sum would double it.
    """

    def zero(self, value):
        return {}

    def addInPlace(self, a, b):  # noqa: N802 (PySpark's name)
        a.update(b)
        return a


def parse_flows(
    spark: SparkSession,
    flows: list[FlowFile],
    countries,
    products,
    rejected: bool = False,
    line_counts=None,
) -> DataFrame:
    """One Spark task per yearly file; Arrow parses and checks it inside the task (see
    lib.io.baci).

    The accepted rows (``FLOW_COLUMNS``), or with ``rejected`` the quarantined lines
    (``PARSED_SPARK_SCHEMA``). ``line_counts``, an accumulator of ``_LineCounts``, receives the
    lines read and rejected (by reason kind) of each file.
    """
    country_codes, product_codes = _code_arrays(countries, products)
    by_index = dict(enumerate(flows))

    def parse_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for index in batch.column("file_index").to_pylist():
                checked = check_flow_file(by_index[index], country_codes, product_codes)
                if line_counts is not None:
                    line_counts.add({index: _file_counts(checked)})
                if rejected:
                    yield from checked.batches(rejected_only=True)
                else:
                    yield from checked.accepted().to_batches(max_chunksize=1_000_000)

    schema = PARSED_SPARK_SCHEMA if rejected else ACCEPTED_SPARK_SCHEMA
    return _file_indexes(spark, len(flows)).mapInArrow(parse_partition, schema)


def _file_indexes(spark: SparkSession, n_files: int) -> DataFrame:
    """Rows 0..n-1 (``file_index``), one per partition: one task per file.

    spark.range splits 0..n-1 evenly, so each core gets whole files (a hash repartition may put
    two files in one task and leave the other core idle).
    """
    files = spark.range(0, n_files, numPartitions=max(1, n_files))
    return files.select(F.col("id").cast("int").alias("file_index"))


def _file_counts(checked: CheckedFlows) -> dict[str, int]:
    """Lines read, and rejected by reason kind, of one file."""
    counts = {"read": checked.n_lines}
    for reason, n in checked.rejected_counts().items():
        kind = reason_kind(reason)
        counts[kind] = counts.get(kind, 0) + n
    return counts


def _code_arrays(countries, products) -> tuple[np.ndarray, pa.Array]:
    """The code lists as the parsing tasks check them."""
    return countries["country_code"].to_numpy(), pa.array(products["product"].tolist(), pa.string())


# What a writing task returns per file: its line counts and its Delta add action (JSON).
WRITTEN_FILE_ARROW = pa.schema(
    [("file_index", pa.int32()), ("counts", pa.string()), ("add", pa.string())]
)
WRITTEN_FILE_SPARK = from_arrow_schema(WRITTEN_FILE_ARROW)


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
    rows = delta.read_table(spark, warehouse, INGEST_FILES).select("year", "fingerprint")
    return {r["year"]: r["fingerprint"] for r in rows.collect()}  # one row per year


def ingest_release(
    spark: SparkSession,
    release: BaciRelease,
    warehouse: str,
    run_id: str,
    optimize: bool = True,
    files_per_batch: int | None = None,
    skip_unchanged: bool = False,
    writer: str = "auto",
) -> IngestReport:
    """Ingest the release's flow files (with ``skip_unchanged``, only the new or changed ones).

    ``writer``: how the flows table is written (``use_arrow_writer``).
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
    stamp = _release_columns(release)
    # A year left unchanged had these very code lists (they are part of every fingerprint).
    if not report.unchanged_years:
        countries_df = spark.createDataFrame(countries).select(
            "*", F.lit(release.release).alias("release")
        )
        products_df = spark.createDataFrame(products).select("*", *stamp)
        delta.write_table(countries_df, warehouse, delta.COUNTRIES, run_id, metadata=meta)
        delta.write_table(products_df, warehouse, delta.PRODUCTS, run_id, metadata=meta)

    # Nothing is cached, so a batch is only the unit of commit (and of restart). Each batch
    # costs a few small commits (flows, quarantine, fingerprints) and ends with idle cores
    # waiting for its last file: a few large batches.
    batch_size = files_per_batch or max(16, 8 * spark.sparkContext.defaultParallelism)
    arrow_writer = use_arrow_writer(writer, warehouse)
    for start in range(0, len(flows), batch_size):
        batch = flows[start : start + batch_size]
        years = [f.year for f in batch]
        write_flows = write_flows_with_arrow if arrow_writer else write_flows_with_spark
        counts = write_flows(spark, batch, countries, products, release, warehouse, run_id, meta)
        if sorted(counts) != list(range(len(batch))):
            raise RuntimeError(f"line counts missing for some of the files of {years}")
        with_rejects = [f for i, f in enumerate(batch) if counts[i]["read"] > _accepted(counts[i])]
        rejected = (
            parse_flows(spark, with_rejects, countries, products, rejected=True)
            if with_rejects
            else _no_rows(spark, PARSED_SPARK_SCHEMA)
        )
        delta.write_table(
            rejected.select(
                "source_file",
                "source_year",
                "line_number",
                "reason",
                "raw_line",
                F.lit(release.release).alias("release"),
                F.lit(run_id).alias("run_id"),
            ),
            warehouse,
            delta.QUARANTINE,
            run_id,
            replace_where=delta.year_predicate(years, "source_year"),
            metadata=meta,
        )
        for i, flow in enumerate(batch):
            _count(report, flow.year, counts[i])
        _record_fingerprints(spark, warehouse, run_id, release, batch, keys, report)
        rows = sum(counts[i]["read"] for i in range(len(batch)))
        progress.advance(len(batch), detail=f"{_years_text(years)}: {rows:,} rows read")

    if optimize:
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
    countries,
    products,
    release: BaciRelease,
    warehouse: str,
    run_id: str,
    meta: dict[str, str],
) -> dict[int, dict[str, int]]:
    """Replace the batch's years of the flows table: each task parses a yearly file and writes
    its accepted rows as one Parquet file; the driver commits them in one transaction.
    Returns the line counts of each file (index in ``batch``), as ``_LineCounts`` has them."""
    table_uri = delta.table_path(warehouse, delta.FLOWS)
    delta.ensure_table(spark, table_uri, TABLES[delta.FLOWS])
    country_codes, product_codes = _code_arrays(countries, products)
    stamp = {"hs_revision": release.hs_revision, "release": release.release}

    def write_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for record in batches:
            for index in record.column("file_index").to_pylist():
                flow = batch[index]
                checked = check_flow_file(flow, country_codes, product_codes)
                accepted = checked.accepted()
                for column, value in stamp.items():
                    accepted = accepted.append_column(
                        column, pa.repeat(pa.scalar(value), accepted.num_rows)
                    )
                add = (
                    write_data_file(accepted, table_uri, delta.FLOWS, {"year": flow.year})
                    if accepted.num_rows
                    else None
                )
                yield pa.RecordBatch.from_pydict(
                    {
                        "file_index": [index],
                        "counts": [json.dumps(_file_counts(checked))],
                        "add": [json.dumps(add) if add else None],
                    },
                    schema=WRITTEN_FILE_ARROW,
                )

    files = _file_indexes(spark, len(batch))
    written = files.mapInArrow(write_partition, WRITTEN_FILE_SPARK).collect()
    counts = {row["file_index"]: json.loads(row["counts"]) for row in written}
    adds = [json.loads(row["add"]) for row in written if row["add"]]
    delta_arrow.commit_files(
        table_uri,
        adds,
        {"year": [f.year for f in batch]},
        delta.commit_metadata(run_id, **meta),
    )
    return counts


def write_flows_with_spark(
    spark: SparkSession,
    batch: list[FlowFile],
    countries,
    products,
    release: BaciRelease,
    warehouse: str,
    run_id: str,
    meta: dict[str, str],
) -> dict[int, dict[str, int]]:
    """The same through Spark's Delta writer: the tasks' Arrow batches stream into it."""
    stamp = _release_columns(release)
    line_counts = spark.sparkContext.accumulator({}, _LineCounts())
    accepted = parse_flows(spark, batch, countries, products, line_counts=line_counts)
    with session_conf(spark, FLOWS_WRITE):
        delta.write_table(
            accepted.select(*FLOW_COLUMNS, *stamp),
            warehouse,
            delta.FLOWS,
            run_id,
            replace_where=delta.year_predicate([f.year for f in batch]),
            partition_by=["year"],
            metadata=meta,
        )
    return line_counts.value


def _release_columns(release: BaciRelease) -> list:
    """The columns stamping every flow and product row with its release."""
    return [
        F.lit(release.hs_revision).alias("hs_revision"),
        F.lit(release.release).alias("release"),
    ]


def _no_rows(spark: SparkSession, schema: T.StructType) -> DataFrame:
    """An empty DataFrame planned in the JVM alone (no Python task to start)."""
    return spark.range(0).select(
        *[F.lit(None).cast(f.dataType).alias(f.name) for f in schema.fields]
    )


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
) -> None:
    """Replace the batch's years in ``baci_ingest_files``, after their flows are committed."""
    rows = [
        (
            f.year,
            f.source.name,
            keys[f.year],
            release.release,
            report.rows_read[f.year],
            report.rows_accepted[f.year],
            run_id,
        )
        for f in batch
    ]
    delta.write_table(
        spark.createDataFrame(rows, spark_schema(INGEST_FILES)),
        warehouse,
        INGEST_FILES,
        run_id,
        replace_where=delta.year_predicate([f.year for f in batch]),
    )
