"""BACI release -> Delta tables ``baci_flows``, ``baci_quarantine``, ``baci_countries``, ``baci_products``.

Every data line of every flow file ends up exactly once: accepted into ``baci_flows`` or, with its
file, line number and reason, in ``baci_quarantine``; the counts are returned and logged, so
rows read = rows accepted + rows quarantined. File-level problems (missing columns, empty file,
unreadable zip, missing code list, mixed releases) stop the run before anything is written.

Re-ingesting a year replaces it: each batch of years is written with ``replaceWhere`` in one
commit per table, so a rerun never duplicates rows and a killed run can simply be run again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lib.io import delta
from lib.io.baci import (
    BaciRelease,
    FlowFile,
    open_source,
    parse_flow_file,
    read_country_codes,
    read_flow_header,
    read_product_codes,
)

PARSED_SPARK_SCHEMA = T.StructType(
    [
        T.StructField("year", T.IntegerType()),
        T.StructField("exporter", T.IntegerType()),
        T.StructField("importer", T.IntegerType()),
        T.StructField("product", T.StringType()),
        T.StructField("value", T.DoubleType()),
        T.StructField("quantity", T.DoubleType()),
        T.StructField("source_file", T.StringType()),
        T.StructField("source_year", T.IntegerType()),
        T.StructField("line_number", T.LongType()),
        T.StructField("reason", T.StringType()),
        T.StructField("raw_line", T.StringType()),
    ]
)
FLOW_COLUMNS = ["year", "exporter", "importer", "product", "value", "quantity"]


@dataclass
class IngestReport:
    release: str
    hs_revision: str
    years: list[int]
    rows_read: dict[int, int] = field(default_factory=dict)
    rows_accepted: dict[int, int] = field(default_factory=dict)
    rows_quarantined: dict[int, int] = field(default_factory=dict)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

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


def parse_flows(spark: SparkSession, flows: list[FlowFile], countries, products) -> DataFrame:
    """One Spark task per yearly file; Arrow parses it inside the task (see lib.io.baci)."""
    country_codes = countries["country_code"].to_numpy()
    product_codes = pa.array(products["product"].tolist(), pa.string())
    by_index = dict(enumerate(flows))

    def parse_partition(batches):
        for batch in batches:
            for index in batch.column("file_index").to_pylist():
                yield from parse_flow_file(by_index[index], country_codes, product_codes)

    files = spark.createDataFrame([(i,) for i in by_index], "file_index int")
    files = files.repartition(len(flows), "file_index")
    return files.mapInArrow(parse_partition, PARSED_SPARK_SCHEMA)


def ingest_release(
    spark: SparkSession,
    release: BaciRelease,
    warehouse: str,
    run_id: str,
    optimize: bool = True,
    files_per_batch: int | None = None,
) -> IngestReport:
    countries = read_country_codes(release.country_file)
    products = read_product_codes(release.product_file)
    meta = {"baci_release": release.release, "hs_revision": release.hs_revision}
    report = IngestReport(release.release, release.hs_revision, release.years)

    stamp = [
        F.lit(release.hs_revision).alias("hs_revision"),
        F.lit(release.release).alias("release"),
    ]
    countries_df = spark.createDataFrame(countries).select(
        "*", F.lit(release.release).alias("release")
    )
    products_df = spark.createDataFrame(products).select("*", *stamp)
    delta.write_table(countries_df, warehouse, delta.COUNTRIES, run_id, metadata=meta)
    delta.write_table(products_df, warehouse, delta.PRODUCTS, run_id, metadata=meta)

    batch_size = files_per_batch or max(2, spark.sparkContext.defaultParallelism)
    flows = list(release.flow_files)
    for start in range(0, len(flows), batch_size):
        batch = flows[start : start + batch_size]
        years = [f.year for f in batch]
        parsed = parse_flows(spark, batch, countries, products).persist(
            StorageLevel.MEMORY_AND_DISK
        )
        try:
            accepted = parsed.where(F.col("reason").isNull()).select(*FLOW_COLUMNS, *stamp)
            delta.write_table(
                accepted,
                warehouse,
                delta.FLOWS,
                run_id,
                replace_where=delta.year_predicate(years),
                partition_by=["year"],
                metadata=meta,
            )
            rejected = parsed.where(F.col("reason").isNotNull()).select(
                "source_file",
                "source_year",
                "line_number",
                "reason",
                "raw_line",
                F.lit(release.release).alias("release"),
                F.lit(run_id).alias("run_id"),
            )
            delta.write_table(
                rejected,
                warehouse,
                delta.QUARANTINE,
                run_id,
                replace_where=delta.year_predicate(years, "source_year"),
                metadata=meta,
            )
            _count(parsed, report)
        finally:
            parsed.unpersist()
        if optimize:
            spark.sql(
                f"OPTIMIZE delta.`{delta.table_path(warehouse, delta.FLOWS)}` "
                f"WHERE {delta.year_predicate(years)}"
            )
    return report


def _count(parsed: DataFrame, report: IngestReport) -> None:
    rows = (
        parsed.groupBy("source_year", "reason")
        .count()
        .collect()  # one row per year and reason: small
    )
    for row in rows:
        year, reason, n = row["source_year"], row["reason"], row["count"]
        report.rows_read[year] = report.rows_read.get(year, 0) + n
        if reason is None:
            report.rows_accepted[year] = report.rows_accepted.get(year, 0) + n
        else:
            report.rows_quarantined[year] = report.rows_quarantined.get(year, 0) + n
            # Group reasons by their kind ("duplicate of line 12" -> "duplicate of line").
            kind = reason.split(" (")[0].rstrip("0123456789 ").strip()
            report.quarantine_reasons[kind] = report.quarantine_reasons.get(kind, 0) + n
