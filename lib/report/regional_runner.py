"""The regional report job's steps: read the warehouse, write the report's Delta tables, the PNG
figures and one self-contained HTML page, and log the run.

Must not compute: it orders the steps and records them.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import pyarrow as pa
from pyspark.sql import SparkSession

from lib.io import delta
from lib.report.frames import deltalake_reader, is_local, spark_reader
from lib.report.html import page_html, synthetic_banner, write_html
from lib.report.regional import (
    SYNTHETIC_LABEL,
    RegionalReport,
    RegionalReportError,
    build_report,
    load_inputs,
)
from lib.report.render import save_figures
from lib.report.runner import HTML_NAME
from lib.run.config import Config, parse_years
from lib.run.run_log import RunRecord
from lib.run.session import build_session


def is_place_activity_warehouse(warehouse: str) -> bool:
    """Whether the warehouse was built from a place x activity table (it has the dataset
    descriptor). Checked with delta-rs on a local warehouse, else by the folder's presence."""
    path = delta.table_path(warehouse, "place_activity_dataset")
    if is_local(warehouse):
        return (Path(path.removeprefix("file://")) / "_delta_log").is_dir()
    return False


def regional_page(report: RegionalReport, dataset: dict, meta: dict[str, str]) -> str:
    kind = dataset.get("place_kind") or "place"
    title = (
        f"Regional report: {dataset.get('dataset')} ({kind} x "
        f"{dataset.get('activity_classification')}), {report.year_from}-{report.year_to}"
    )
    intro = (
        "The analyses of IPPR's <em>Gathering strength</em> (2014), chapter 4, on a place x "
        "activity table: location quotients (the Balassa RCA of each place's structure, e.g. "
        "of employment), specialisations (LQ >= 1), complexity (ECI, Fitness) of the places "
        "computed as for countries, and the closest opportunities by relatedness density."
    )
    captions = {
        "regional_group_lq": f"Location quotient of {report.group_label} by {kind} and year",
        "regional_specialisations": f"Strongest specialisations, {report.year_to}",
        "regional_complexity_year": f"Complexity and specialisation of each {kind}, by year",
        "regional_adjacent_activities": f"Closest opportunities, {report.year_to}",
    }
    tables = [(captions[name], frame) for name, frame in report.tables.items()]
    banner = []
    if dataset.get("synthetic"):
        banner = synthetic_banner(
            f"{html.escape(SYNTHETIC_LABEL)}. {html.escape(str(dataset.get('note') or ''))}"
        )
    return page_html(title, meta, intro, report.notes, report.figures, tables, banner)


def run_regional_report(
    config: Config,
    out_dir: Path,
    groups: list[str] | None = None,
    top: int = 5,
    spark: SparkSession | None = None,
) -> Path:
    """Tables, figures and page of the regional report; returns the HTML path."""
    warehouse = config.output.warehouse
    years = parse_years(config.report.years, "report.years")
    try:  # every input is read and checked before Spark starts (delta-rs on a local warehouse)
        if is_local(warehouse):
            inputs = load_inputs(deltalake_reader(warehouse), years)
            report = build_report(inputs, groups, top)
    except RegionalReportError as exc:
        raise SystemExit(f"Report input error: {exc}") from exc

    own_session = spark is None and SparkSession.getActiveSession() is None
    if spark is None:
        spark = build_session("ecomplexity-regional-report")
    run = RunRecord("report", config)
    stamp = {delta.COMMIT_METADATA_CONF: delta.commit_metadata(run.run_id)}
    with delta.session_conf(spark, stamp):  # every commit carries the run id
        try:
            if not is_local(warehouse):
                inputs = load_inputs(spark_reader(spark, warehouse), years)
                report = build_report(inputs, groups, top)
            run.years = inputs.years
            started = time.perf_counter()
            for name, frame in report.tables.items():
                delta.write_table(_to_spark(spark, frame), warehouse, name, run.run_id)
                run.row_counts[name] = len(frame)
            run.stage_seconds["tables"] = round(time.perf_counter() - started, 3)
            written = save_figures(report.figures, out_dir)
            meta = {
                "Dataset": f"{inputs.dataset.get('dataset')} ({inputs.dataset.get('source')})",
                "Values": str(inputs.dataset.get("value_measure")),
                "Years": f"{report.year_from}-{report.year_to}",
                "Warehouse": warehouse,
                "Run id": run.run_id,
            }
            html_path = write_html(out_dir / HTML_NAME, regional_page(report, inputs.dataset, meta))
            run.row_counts["figures"] = len(written)
        except BaseException as exc:
            run.write(spark, warehouse, "failed", error=f"{type(exc).__name__}: {exc}")
            raise
        run.write(spark, warehouse, "succeeded")
    print(f"Regional report: {len(written)} figures and {html_path}")
    for note in report.notes:
        print(f"Note: {note}")
    if own_session:
        spark.stop()
    return html_path


def _to_spark(spark: SparkSession, frame):
    """A report frame (small) as a Spark DataFrame, through Arrow (NaN -> NULL)."""
    return spark.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False))
