"""The report job's steps after the inputs were checked: Spark tables, figures, HTML, run log.

Must not compute: it orders the steps and records them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
from pyspark.sql import SparkSession

from lib.classifications.sectors import SectorMapping
from lib.datasets.provenance import SYNTHETIC_BANNER
from lib.io import delta
from lib.report.build import report_tables, write_report_tables
from lib.report.countries import CountryError
from lib.report.frames import (
    ReportInputError,
    ReportParams,
    deltalake_reader,
    is_local,
    load_frames,
    resolve_params,
    spark_reader,
)
from lib.report.html import report_html, write_html
from lib.report.product_space_report import report_product_space, write_graph_files
from lib.report.render import report_figures, save_figures, summary_tables
from lib.report.services import services_with_codes
from lib.run.config import Config, parse_years
from lib.run.run_log import RunRecord
from lib.run.session import build_session

HTML_NAME = "report.html"


def bicm_options(config: Config) -> tuple[float, str] | None:
    """(alpha, validation) of the BiCM-validated links the product space draws, or None
    (``product_space.projection = "proximity"``)."""
    ps = config.product_space
    return (ps.bicm_alpha, ps.bicm_validation) if ps.projection == "bicm" else None


def run_report(
    config: Config,
    mapping: SectorMapping,
    services: pd.DataFrame | None,
    out_dir: Path,
    params: ReportParams | None = None,
    spark=None,
) -> Path:
    """Write the tables, figures and page; returns the HTML path.

    A session that already runs (tests, notebooks) is used and left running.
    """
    own_session = spark is None and SparkSession.getActiveSession() is None
    if spark is None:
        spark = build_session(
            "ecomplexity-report",
            extra_conf={"spark.sql.shuffle.partitions": str(config.spark.shuffle_partitions)},
        )
    run = RunRecord("report", config)
    # Every commit of the report is stamped with its run id, for the report's duration only.
    with delta.session_conf(spark, {delta.COMMIT_METADATA_CONF: delta.commit_metadata(run.run_id)}):
        html_path = _report(spark, run, mapping, services, out_dir, params)
    if own_session:
        spark.stop()
    return html_path


def _report(
    spark: SparkSession,
    run: RunRecord,
    mapping: SectorMapping,
    services: pd.DataFrame | None,
    out_dir: Path,
    params: ReportParams | None,
) -> Path:
    config = run.config
    warehouse = config.output.warehouse
    read = spark_reader(spark, warehouse)
    try:
        if params is None:  # a remote warehouse: the checks run through Spark
            cfg = config.report
            params = resolve_params(
                read,
                cfg.country,
                cfg.compare,
                parse_years(cfg.years, "report.years"),
                mapping.scheme,
                cfg.adjacent_top,
            )
            if services is not None:
                services, unknown = services_with_codes(services, read("baci_countries", []))
                if unknown:
                    params = params.with_note(f"Services rows skipped (unknown ISO3): {unknown}")
        for note in params.notes:
            print(f"Note: {note}", file=sys.stderr)
        if params.source.synthetic:
            print(f"Note: {SYNTHETIC_BANNER} ({params.source.description()})", file=sys.stderr)
        run.years = list(params.years)
        run.source_kind = params.source.kind
        started = time.perf_counter()
        items = report_tables(spark, warehouse, config, params, mapping, services)
        write_report_tables(items, warehouse, run.run_id)
        run.stage_seconds["tables"] = round(time.perf_counter() - started, 3)

        started = time.perf_counter()
        # delta-rs where it can: no Spark jobs, and the very reader the notebook uses.
        frames = load_frames(deltalake_reader(warehouse) if is_local(warehouse) else read, params)
        graph = report_product_space(
            frames,
            params.country.code,
            mapping,
            config.report.product_space_min_link,
            config.report.product_space_max_products,
            bicm_options(config),
        )
        figures = list(report_figures(frames, params, mapping, graph))
        written = save_figures(figures, out_dir)
        if graph is not None:  # for Gephi and Cytoscape
            stem = f"product_space_{params.country.iso3}_{params.year_to}"
            written += write_graph_files(graph, out_dir, stem)
        meta = {
            "Years": f"{params.year_from}-{params.year_to}",
            "Sector scheme": params.sector_scheme,
            "Services": config.report.services or "none (goods only)",
            "Warehouse": warehouse,
            "Run id": run.run_id,
        }
        page = report_html(params, figures, summary_tables(frames, params), meta)
        html_path = write_html(out_dir / HTML_NAME, page)
        run.stage_seconds["figures"] = round(time.perf_counter() - started, 3)
        run.row_counts["figures"] = len(written)
    except (ReportInputError, CountryError) as exc:
        run.write(spark, warehouse, "failed", error=str(exc))
        raise SystemExit(f"Report input error: {exc}") from exc
    except BaseException as exc:
        run.write(spark, warehouse, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    run.write(spark, warehouse, "succeeded")
    skipped = [f.name for f in figures if f.figure is None]
    print(f"Report for {params.country.label}: {len(written)} figures and {html_path}")
    if skipped:
        print(f"Not drawn (no data): {', '.join(skipped)}")
    return html_path
