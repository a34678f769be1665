"""The stages a job runs, each recorded in the run log: ingest, then indicators."""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib import __version__
from lib.config import Config, parse_years
from lib.ingest import (
    UNSORTED_PARTITION_WRITES,
    IngestReport,
    check_flow_headers,
    ingest_release,
    ingested_fingerprints,
    session_conf,
)
from lib.io import catalog, delta, delta_arrow
from lib.io.baci import BaciRelease, discover_release
from lib.maintenance import set_retention_defaults
from lib.pipeline import IndicatorTables, compute_indicators
from lib.run_log import RunRecord
from lib.tables import spark_schema


def resolve_source(config: Config) -> str:
    """The configured BACI release, or the embedded default (generated on first use)."""
    source = config.input.source
    if source:
        # Executors open the files themselves: a path relative to the driver's working
        # directory would point elsewhere on a cluster node.
        return source if "://" in source else str(Path(source).expanduser().resolve())
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
    """Stamp every Delta commit of this run (also OPTIMIZE) with the run id; the tables it
    writes get the configured retention (lib.maintenance)."""
    spark.conf.set(
        "spark.databricks.delta.commitInfo.userMetadata", delta.commit_metadata(run.run_id)
    )
    set_retention_defaults(spark, run.config.output)


def run_ingest(
    spark: SparkSession,
    config: Config,
    release: BaciRelease,
    run: RunRecord,
    incremental: bool = False,
) -> IngestReport:
    """Ingest the release; ``incremental``: skip the yearly files ingested before unchanged."""
    warehouse = config.output.warehouse
    run.source, run.baci_release = release.location, release.release
    run.years = release.years
    with stage(run, "ingest"):
        report = ingest_release(
            spark,
            release,
            warehouse,
            run.run_id,
            optimize=config.output.optimize_after_ingest,
            writer=config.output.writer,
            skip_unchanged=incremental,
        )
    if incremental:
        run.years = report.ingested_years
        run.row_counts["ingest.years_unchanged"] = len(report.unchanged_years)
    run.row_counts.update({f"ingest.{k}": v for k, v in report.totals.items()})
    for reason, n in report.quarantine_reasons.items():
        run.row_counts[f"ingest.quarantined.{reason}"] = n
    catalog.register_tables(spark, config.output)
    return report


INDICATOR_TABLES = (
    delta.COUNTRY_YEAR,
    delta.PRODUCT_YEAR,
    delta.COUNTRY_PRODUCT_YEAR,
    delta.PRODUCT_PROXIMITY,
    delta.FITNESS_CONVERGENCE,
)


# Which flows (fingerprint of the ingested file) and settings each year's indicators come from.
INDICATOR_STATE = "indicator_years"
INDICATOR_SECTIONS = ("products", "countries", "rca", "fitness", "eci", "product_space")


def run_indicators(
    spark: SparkSession, config: Config, run: RunRecord, incremental: bool = False
) -> list[int]:
    """Compute every indicator for the configured years and replace those years in each table.

    ``incremental``: only the years whose flows changed (another ingested file), whose settings
    changed, or that are missing from an output table are computed. Returns the configured
    years that have flows; ``run.years`` holds those computed.
    """
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
    keys = flows_keys(spark, warehouse, years, run.input_versions[delta.FLOWS])
    settings = settings_key(config)
    todo = stale_years(spark, config, years, keys, settings) if incremental else years
    run.years = todo
    run.row_counts["indicators.years_unchanged"] = len(years) - len(todo)
    if not todo:
        return years
    countries = delta.read_table(spark, warehouse, delta.COUNTRIES)
    products = delta.read_table(spark, warehouse, delta.PRODUCTS)

    with stage(run, "indicators"):
        tables = compute_indicators(
            flows, countries, products, config, todo, run.input_versions[delta.FLOWS]
        )
        try:
            _write_indicator_tables(tables, warehouse, run, todo)
        finally:
            tables.release()
        state = [(y, keys[y], settings, run.run_id) for y in todo]
        delta.write_table(
            spark.createDataFrame(state, spark_schema(INDICATOR_STATE)),
            warehouse,
            INDICATOR_STATE,
            run.run_id,
            replace_where=delta.year_predicate(todo),
        )
    catalog.register_tables(spark, config.output)
    return years


def settings_key(config: Config) -> str:
    """Changes with the code version and every option the indicators depend on."""
    options = {section: config.to_dict()[section] for section in INDICATOR_SECTIONS}
    text = __version__ + json.dumps(options, sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def flows_keys(
    spark: SparkSession, warehouse: str, years: list[int], flows_version: int | None
) -> dict[int, str]:
    """Per year, the fingerprint of the file its flows were ingested from (lib.ingest); for
    flows ingested without one, the flows table version (any rewrite then counts as a change)."""
    fingerprints = ingested_fingerprints(spark, warehouse)
    return {y: fingerprints.get(y, f"flows-version-{flows_version}") for y in years}


def stale_years(
    spark: SparkSession, config: Config, years: list[int], keys: dict[int, str], settings: str
) -> list[int]:
    """The years computed from other flows or settings than now, or missing from an output."""
    warehouse = config.output.warehouse
    if not delta.table_exists(spark, warehouse, INDICATOR_STATE):
        return years
    state = {
        r["year"]: (r["flows_key"], r["settings_key"])
        for r in delta.read_table(spark, warehouse, INDICATOR_STATE).collect()  # a row a year
    }
    present = set(years)
    for name in INDICATOR_TABLES:
        if name == delta.PRODUCT_PROXIMITY and not config.product_space.enabled:
            continue
        if not delta.table_exists(spark, warehouse, name):
            return years
        table = delta.read_table(spark, warehouse, name).where(F.col("year").isin(years))
        present &= {r["year"] for r in table.select("year").distinct().collect()}
    return [y for y in years if y not in present or state.get(y) != (keys[y], settings)]


def _write_indicator_tables(
    tables: IndicatorTables, warehouse: str, run: RunRecord, years: list[int]
) -> None:
    """Replace the years in every output table, one commit per table. The first write runs the
    yearly tasks; with the arrow writer they have then also written the files of the grid and
    proximity tables, which are committed here in their turn."""
    outputs: dict[str, DataFrame | None] = {
        delta.COUNTRY_YEAR: tables.country_year,
        delta.PRODUCT_YEAR: tables.product_year,
        delta.COUNTRY_PRODUCT_YEAR: tables.country_product_year,
        delta.PRODUCT_PROXIMITY: tables.product_proximity,
        delta.FITNESS_CONVERGENCE: tables.fitness_convergence,
    }
    predicate = delta.year_predicate(years)
    for name, df in outputs.items():
        if name in tables.task_written:
            _commit_task_files(tables.written_files, warehouse, name, run, years)
            continue
        if df is None:
            continue
        partition = (
            ["year"] if name in (delta.COUNTRY_PRODUCT_YEAR, delta.PRODUCT_PROXIMITY) else []
        )
        with session_conf(df.sparkSession, UNSORTED_PARTITION_WRITES):
            delta.write_table(
                df, warehouse, name, run.run_id, replace_where=predicate, partition_by=partition
            )
        run.row_counts[f"indicators.{name}"] = _rows_written(df.sparkSession, warehouse, name)


def _commit_task_files(
    files: DataFrame, warehouse: str, name: str, run: RunRecord, years: list[int]
) -> None:
    """Commit the files the yearly tasks wrote for table ``name``, replacing the years."""
    adds = [json.loads(r["add"]) for r in files.where(F.col("table") == name).collect()]
    delta_arrow.commit_files(
        files.sparkSession,
        delta.table_path(warehouse, name),
        adds,
        {"year": years},
        delta.commit_metadata(run.run_id),
    )
    rows = sum(json.loads(add["add"]["stats"])["numRecords"] for add in adds)
    run.row_counts[f"indicators.{name}"] = rows


def _rows_written(spark: SparkSession, warehouse: str, name: str) -> int:
    """Rows of the table's last commit, from its metrics (no scan of the table)."""
    from delta.tables import DeltaTable

    last = DeltaTable.forPath(spark, delta.table_path(warehouse, name)).history(1).first()
    return int((last["operationMetrics"] or {}).get("numOutputRows", 0))


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
