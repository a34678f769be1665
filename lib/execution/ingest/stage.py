"""The ingest stage: check the release, skip the files ingested before unchanged, read the rest in batches and record what was read.

Returns an ``IngestReport`` whose counts add up: rows read = rows accepted + rows quarantined.
The reading and the writing of the rows are in ``lib.execution.ingest.reading`` and ``.writers``.

Must not drop a row silently: every row read is accepted or quarantined with its reason.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pyarrow as pa
from pyspark.sql import SparkSession

from lib.execution.ingest.reading import FILES_PER_BATCH, INGEST_FILES, FileReading, _stamped
from lib.execution.ingest.writers import (
    _write_quarantine,
    write_flows_with_arrow,
    write_flows_with_spark,
)
from lib.io import delta
from lib.io.baci import (
    BaciRelease,
    FlowFile,
    fingerprint,
    open_source,
    read_country_codes,
    read_flow_header,
    read_product_codes,
)
from lib.io.delta_arrow import use_arrow_writer
from lib.run import progress
from lib.run.versions import INGEST_MODULES, code_fingerprints
from lib.tables import TABLES


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


def flow_fingerprints(release: BaciRelease) -> dict[int, tuple[str, ...]]:
    """Per year, a key that changes when the flow file, a code list or the code changes: the
    key now first, then those that earlier code computing the same rows gave
    (``lib.run.versions.code_fingerprints``).

    Flow files (hundreds of MB) are identified by name, size and modification time; the code
    lists (small) by their content, so an identical copy of them changes nothing.
    """
    code_lists = hashlib.sha256()
    for source in (release.country_file, release.product_file):
        with open_source(source) as stream:
            code_lists.update(stream.read())
    code_lists = code_lists.hexdigest()
    codes = code_fingerprints(only=INGEST_MODULES)
    return {
        flow.year: tuple(
            hashlib.sha256(f"{code}|{fingerprint(flow.source)}|{code_lists}".encode()).hexdigest()[
                :20
            ]
            for code in codes
        )
        for flow in release.flow_files
    }


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
    accepted = flow_fingerprints(release)
    keys = {year: same[0] for year, same in accepted.items()}  # what this run records
    done = ingested_fingerprints(spark, warehouse) if skip_unchanged else {}
    flows = [f for f in release.flow_files if done.get(f.year) not in accepted[f.year]]
    report.unchanged_years = sorted(set(release.years) - {f.year for f in flows})
    if report.unchanged_years:
        progress.advance(len(report.unchanged_years), detail="unchanged files, not read again")
    if not flows:
        return report

    # The tables this run writes, created (if new) while it reads and writes the flows.
    written = [delta.FLOWS, delta.QUARANTINE, INGEST_FILES]
    if not report.unchanged_years:
        written = [delta.COUNTRIES, delta.PRODUCTS, *written]
    with delta.tables_ensured_meanwhile(spark, warehouse, written):
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
