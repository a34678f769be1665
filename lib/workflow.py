"""The stages a job runs, each recorded in the run log: ingest, then indicators."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.config import Config, parse_years
from lib.ingest import IngestReport, check_flow_headers, ingest_release
from lib.io import delta
from lib.io.baci import BaciRelease, discover_release
from lib.pipeline import IndicatorTables, compute_indicators
from lib.run_log import RunRecord


def resolve_source(config: Config) -> str:
    """The configured BACI release, or the embedded default (generated on first use)."""
    if config.input.source:
        return config.input.source
    from lib.synthetic import ensure_default_release

    return str(ensure_default_release())


def locate_release(config: Config) -> BaciRelease:
    """Discover and check the release on the driver, before Spark starts: file-level errors
    (missing code lists, mixed releases, unreadable zip, empty files, missing columns) stop the
    run before anything is written."""
    release = discover_release(
        resolve_source(config), parse_years(config.input.years, "input.years")
    )
    check_flow_headers(release)
    return release


@contextmanager
def stage(run: RunRecord, name: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        run.stage_seconds[name] = round(time.perf_counter() - start, 3)


def set_commit_metadata(spark: SparkSession, run: RunRecord) -> None:
    """Stamp every Delta commit of this run (also OPTIMIZE) with the run id."""
    spark.conf.set(
        "spark.databricks.delta.commitInfo.userMetadata", delta.commit_metadata(run.run_id)
    )


def run_ingest(
    spark: SparkSession, config: Config, release: BaciRelease, run: RunRecord
) -> IngestReport:
    warehouse = config.output.warehouse
    run.source, run.baci_release = release.location, release.release
    run.years = release.years
    with stage(run, "ingest"):
        report = ingest_release(
            spark, release, warehouse, run.run_id, optimize=config.output.optimize_after_ingest
        )
    run.row_counts.update({f"ingest.{k}": v for k, v in report.totals.items()})
    for reason, n in report.quarantine_reasons.items():
        run.row_counts[f"ingest.quarantined.{reason}"] = n
    return report


INDICATOR_TABLES = (
    delta.COUNTRY_YEAR,
    delta.PRODUCT_YEAR,
    delta.COUNTRY_PRODUCT_YEAR,
    delta.PRODUCT_PROXIMITY,
    delta.FITNESS_CONVERGENCE,
)


def run_indicators(spark: SparkSession, config: Config, run: RunRecord) -> list[int]:
    """Compute every indicator for the configured years and replace those years in each table."""
    warehouse = config.output.warehouse
    for name in (delta.FLOWS, delta.COUNTRIES, delta.PRODUCTS):
        if not delta.table_exists(spark, warehouse, name):
            raise SystemExit(
                f"No {name} table under {warehouse}: ingest a BACI release first "
                "(jobs/ingest.py --source ..., or jobs/fitness.py --source ...)."
            )
        run.input_versions[name] = delta.table_version(spark, warehouse, name)
    flows = delta.read_table(spark, warehouse, delta.FLOWS)
    wanted = parse_years(config.input.years, "input.years")
    available = sorted(r["year"] for r in flows.select("year").distinct().collect())
    years = [y for y in available if wanted is None or y in wanted]
    if not years:
        raise SystemExit(
            f"No flows for the years asked ({config.input.years}); the table has {available}."
        )
    run.years = years
    countries = delta.read_table(spark, warehouse, delta.COUNTRIES)
    products = delta.read_table(spark, warehouse, delta.PRODUCTS)

    with stage(run, "indicators"):
        tables = compute_indicators(flows, countries, products, config, years)
        try:
            _write_indicator_tables(tables, warehouse, run, years)
        finally:
            tables.release()
    return years


def _write_indicator_tables(
    tables: IndicatorTables, warehouse: str, run: RunRecord, years: list[int]
) -> None:
    outputs: dict[str, DataFrame | None] = {
        delta.COUNTRY_YEAR: tables.country_year,
        delta.PRODUCT_YEAR: tables.product_year,
        delta.COUNTRY_PRODUCT_YEAR: tables.country_product_year,
        delta.PRODUCT_PROXIMITY: tables.product_proximity,
        delta.FITNESS_CONVERGENCE: tables.fitness_convergence,
    }
    predicate = delta.year_predicate(years)
    for name, df in outputs.items():
        if df is None:
            continue
        partition = (
            ["year"] if name in (delta.COUNTRY_PRODUCT_YEAR, delta.PRODUCT_PROXIMITY) else []
        )
        delta.write_table(
            df, warehouse, name, run.run_id, replace_where=predicate, partition_by=partition
        )
        run.row_counts[f"indicators.{name}"] = (
            delta.read_table(df.sparkSession, warehouse, name).where(predicate).count()
        )


def top_table(spark: SparkSession, warehouse: str, column: str, year: int, n: int = 10) -> str:
    rows = (
        delta.read_table(spark, warehouse, delta.COUNTRY_YEAR)
        .where((F.col("year") == year) & F.col(column).isNotNull())
        .orderBy(F.col(column).desc())
        .select("country_code", "iso3", "country_name", column)
        .limit(n)
        .collect()
    )
    lines = [
        f"Top {n} by {column}, {year}:",
        f"  {'#':>3}  {'iso3':<5} {'country':<32} {column:>12}",
    ]
    for rank, row in enumerate(rows, 1):
        name = (row["country_name"] or str(row["country_code"]))[:32]
        lines.append(f"  {rank:>3}  {row['iso3'] or '':<5} {name:<32} {row[column]:>12.4g}")
    return "\n".join(lines)


def absolute(path: str) -> str:
    return path if "://" in path else str(Path(path).resolve())
