"""The stages a job runs, each recorded in the run log: ingest, then indicators.

Must not hold a formula or write a table itself: it calls the stages with their settings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
from pyspark.sql import SparkSession

from lib.execution.indicators import IndicatorTables, compute_indicators
from lib.execution.ingest import (
    INGEST_FILES,
    UNSORTED_PARTITION_WRITES,
    IngestReport,
    check_flow_headers,
    ingest_release,
    ingested_fingerprints,
)
from lib.io import catalog, delta, delta_arrow
from lib.io.baci import BaciRelease, discover_release
from lib.io.maintenance import retention_defaults_conf
from lib.measures.smoothing import window_keys
from lib.run import progress
from lib.run.config import Config, parse_years
from lib.run.run_log import RunRecord
from lib.run.settings import indicator_settings
from lib.run.versions import code_fingerprints


def resolve_source(config: Config) -> str:
    """The configured BACI release, or the embedded default (generated on first use)."""
    source = config.input.source
    if source:
        # Executors open the files themselves: a path relative to the driver's working
        # directory would point elsewhere on a cluster node.
        return source if "://" in source else str(Path(source).expanduser().resolve())
    from lib.datasets.synthetic import ensure_default_release

    return str(ensure_default_release())


def with_default_attributes(config: Config) -> Config:
    """The config, with the embedded default release's SYNTHETIC GDP per capita as
    ``input.country_attributes`` when the run uses that release (``input.source = ""``) and names
    no attributes file: the default job then writes the growth forecasts too. Call it after the
    release exists (``locate_release``)."""
    if config.input.source or config.input.country_attributes:
        return config
    from lib.datasets.synthetic import default_country_attributes

    path = default_country_attributes()
    if not path.is_file():
        return config
    attributes = dataclasses.replace(config.input, country_attributes=str(path))
    return dataclasses.replace(config, input=attributes)


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


@contextmanager
def job_settings(spark: SparkSession, run: RunRecord):
    """For the duration of a job: every Delta commit (OPTIMIZE too) is stamped with the run
    id, and the tables it creates get the configured retention (``lib.io.maintenance``). Put back
    afterwards, so a job run from a user's session leaves that session's settings alone."""
    conf = {delta.COMMIT_METADATA_CONF: delta.commit_metadata(run.run_id)}
    conf.update(retention_defaults_conf(run.config.output))
    with delta.session_conf(spark, conf):
        yield


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
    run.source_kind = release.source_kind
    run.years = release.years
    _one_release(spark, warehouse, release.release, replace=not incremental)
    with (
        stage(run, "ingest"),
        progress.stage("ingest", total=len(release.flow_files), unit="file"),
    ):
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


# Tables holding rows of one BACI release (column ``release``).
RELEASE_TABLES = (INGEST_FILES, delta.FLOWS, delta.QUARANTINE)


def _one_release(spark: SparkSession, warehouse: str, release: str, replace: bool) -> None:
    """A warehouse holds the flows of one BACI release: code lists change between releases
    (Italy is 381 in V202201, 380 in V202301), so years of two releases cannot be compared.
    Another release already there is refused, or (``replace``, i.e. --full-refresh) its rows
    are deleted before the new release is ingested."""
    if not delta.table_exists(spark, warehouse, INGEST_FILES):
        return
    releases = delta.read_arrow(spark, warehouse, INGEST_FILES, ["release"]).column("release")
    found = sorted(set(releases.to_pylist()))
    others = [r for r in found if r != release]
    if not others:
        return
    if not replace:
        raise SystemExit(
            f"The warehouse {warehouse} holds BACI release {', '.join(others)}, not {release}: "
            "releases use different country codes, so they are not mixed. Run with "
            f"--full-refresh to replace the warehouse's flows with {release}, or give another "
            "--warehouse."
        )
    for name in RELEASE_TABLES:
        if delta.table_exists(spark, warehouse, name):
            path = delta.table_path(warehouse, name)
            spark.sql(f"DELETE FROM delta.`{path}` WHERE release <> '{_sql_text(release)}'")


def _sql_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


INDICATOR_TABLES = (
    delta.COUNTRY_YEAR,
    delta.PRODUCT_YEAR,
    delta.COUNTRY_PRODUCT_YEAR,
    delta.PRODUCT_PROXIMITY,
    delta.PRODUCT_BICM_LINKS,
    delta.FITNESS_CONVERGENCE,
)


def written_indicator_tables(config: Config) -> tuple[str, ...]:
    """The indicator tables a run with ``config`` writes (proximity and BiCM links are optional)."""
    space = config.product_space
    skipped = set()
    if not space.enabled:
        skipped |= {delta.PRODUCT_PROXIMITY, delta.PRODUCT_BICM_LINKS}
    elif space.projection != "bicm":
        skipped.add(delta.PRODUCT_BICM_LINKS)
    return tuple(name for name in INDICATOR_TABLES if name not in skipped)


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
    wanted = parse_years(config.input.years, "input.years")
    available = sorted(delta.table_years(spark, warehouse, delta.FLOWS))
    years = [y for y in available if wanted is None or y in wanted]
    if not years:
        raise SystemExit(
            f"No flows for the years asked ({config.input.years}); the table has {available}."
        )
    keys = flows_keys(spark, warehouse, available, run.input_versions[delta.FLOWS])
    keys = window_keys(keys, years, config.rca.smoothing_years)  # a year's window of flows
    accepted = settings_keys(config)
    settings = accepted[0]
    todo = stale_years(spark, config, years, keys, accepted) if incremental else years
    run.years = todo
    run.row_counts["indicators.years_unchanged"] = len(years) - len(todo)
    if not todo:
        return years
    written = sorted(written_indicator_tables(config), key=_tasks_first) + [INDICATOR_STATE]
    with (
        stage(run, "indicators"),
        progress.stage("indicators", total=len(todo), unit="year"),
        delta.tables_ensured_meanwhile(spark, warehouse, written),
    ):
        stage_settings = indicator_settings(config)
        tables = compute_indicators(spark, stage_settings, todo, run.input_versions[delta.FLOWS])
        progress.update("every year computed; writing the tables")
        try:
            write_indicator_tables(spark, tables, warehouse, run, todo)
        finally:
            tables.release()
        state = pa.table(
            {
                "year": todo,
                "flows_key": [keys[y] for y in todo],
                "settings_key": [settings] * len(todo),
                "run_id": [run.run_id] * len(todo),
            }
        )
        delta.write_arrow_rows(
            spark,
            state,
            warehouse,
            INDICATOR_STATE,
            run.run_id,
            writer=config.output.writer,
            replace_where=delta.year_predicate(todo),
        )
    catalog.register_tables(spark, config.output)
    return years


def _tasks_first(name: str) -> bool:
    """Sort key: the tables the yearly tasks write into (needed first), then the others."""
    return name not in (
        delta.COUNTRY_PRODUCT_YEAR,
        delta.PRODUCT_PROXIMITY,
        delta.PRODUCT_BICM_LINKS,
    )


def settings_key(config: Config) -> str:
    """Changes with the code that computes the indicators (``lib.run.versions``) and every
    option they depend on."""
    return settings_keys(config)[0]


def settings_keys(config: Config) -> tuple[str, ...]:
    """The settings key now, then those that earlier code computing the same tables gave."""
    options = {section: config.to_dict()[section] for section in INDICATOR_SECTIONS}
    if config.input.country_attributes:  # its content, not its name, decides the results
        data = Path(config.input.country_attributes).read_bytes()
        options["country_attributes"] = hashlib.sha256(data).hexdigest()
    text = json.dumps(options, sort_keys=True, default=list)
    return tuple(
        hashlib.sha256((code + text).encode()).hexdigest()[:20] for code in code_fingerprints()
    )


def flows_keys(
    spark: SparkSession, warehouse: str, years: list[int], flows_version: int | None
) -> dict[int, str]:
    """Per year, the fingerprint of the file its flows were ingested from (lib.execution.ingest); for
    flows ingested without one, the flows table version (any rewrite then counts as a change)."""
    fingerprints = ingested_fingerprints(spark, warehouse)
    return {y: fingerprints.get(y, f"flows-version-{flows_version}") for y in years}


def stale_years(
    spark: SparkSession,
    config: Config,
    years: list[int],
    keys: dict[int, str],
    settings: tuple[str, ...],
) -> list[int]:
    """The years computed from other flows or settings than now (``settings``: the keys that
    count as now), or missing from an output."""
    warehouse = config.output.warehouse
    if not delta.table_exists(spark, warehouse, INDICATOR_STATE):
        return years
    rows = delta.read_arrow(spark, warehouse, INDICATOR_STATE).to_pylist()  # a row a year
    state = {r["year"]: (r["flows_key"], r["settings_key"]) for r in rows}
    present = set(years)
    for name in written_indicator_tables(config):
        if not delta.table_exists(spark, warehouse, name):
            return years
        present &= delta.table_years(spark, warehouse, name)
    current = {y: state.get(y, (None, None)) for y in years}
    return [
        y
        for y in years
        if y not in present or current[y][0] != keys[y] or current[y][1] not in settings
    ]


def write_indicator_tables(
    spark: SparkSession, tables: IndicatorTables, warehouse: str, run: RunRecord, years: list[int]
) -> None:
    """Replace the years in every output table, one commit per table: the files the yearly
    tasks wrote are committed (arrow writer), the other tables written by Spark's writer."""
    predicate = delta.year_predicate(years)
    for year, path in tables.paths.items():  # which path computed each year (execution.matrix)
        run.row_counts[f"indicators.{path}.{year}"] = 1
    small = {
        delta.COUNTRY_YEAR: tables.country_year,
        delta.PRODUCT_YEAR: tables.product_year,
        delta.FITNESS_CONVERGENCE: tables.fitness_convergence,
    }
    for name, rows in small.items():
        delta.write_arrow_rows(
            spark,
            rows,
            warehouse,
            name,
            run.run_id,
            writer=run.config.output.writer,
            replace_where=predicate,
        )
        run.row_counts[f"indicators.{name}"] = rows.num_rows
        progress.update(f"{name} written")
    for name, adds in tables.written_files.items():
        delta_arrow.commit_files(
            delta.table_path(warehouse, name),
            adds,
            {"year": years},
            delta.commit_metadata(run.run_id),
        )
        rows = sum(json.loads(add["add"]["stats"])["numRecords"] for add in adds)
        run.row_counts[f"indicators.{name}"] = rows
        progress.update(f"{name} committed")
    large = {
        delta.COUNTRY_PRODUCT_YEAR: tables.country_product_year,
        delta.PRODUCT_PROXIMITY: tables.product_proximity,
        delta.PRODUCT_BICM_LINKS: tables.product_bicm_links,
    }
    for name, df in large.items():
        if df is None:
            continue
        with delta.session_conf(spark, UNSORTED_PARTITION_WRITES):
            delta.write_table(df, warehouse, name, run.run_id, replace_where=predicate)
        metrics = (delta.last_commit(spark, delta.table_path(warehouse, name)) or {}).get(
            "operationMetrics"
        ) or {}
        run.row_counts[f"indicators.{name}"] = int(metrics.get("numOutputRows", 0))
        progress.update(f"{name} written")


def top_table(spark: SparkSession, warehouse: str, column: str, year: int, n: int = 10) -> str:
    table = delta.read_arrow(
        spark,
        warehouse,
        delta.COUNTRY_YEAR,
        ["year", "country_code", "iso3", "country_name", column],
    ).to_pandas()
    chosen = table[(table["year"] == year) & table[column].notna()]
    top = chosen.sort_values(column, ascending=False, kind="stable").head(n)
    rows = top.astype(object).where(top.notna(), None).to_dict("records")  # missing names: None
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
