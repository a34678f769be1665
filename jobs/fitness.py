"""Main job: BACI release -> Delta tables of yearly economic-complexity indicators.

    ./spark-submit.sh jobs/fitness.py                         # embedded default release
    ./spark-submit.sh jobs/fitness.py --source /data/BACI_HS92_V202401.zip --years 1995-2010
    ./spark-submit.sh jobs/fitness.py --no-ingest --set products.level=hs6
    ./spark-submit.sh jobs/fitness.py --full-refresh       # re-read and recompute everything
    ./spark-submit.sh jobs/fitness.py --source uk-regions --warehouse warehouse-regions \\
        --report report_regions                         # SYNTHETIC regions, with the report
    ./spark-submit.sh jobs/fitness.py --source employment.csv --warehouse wh  # place x activity

Runs the ingest first (unless --no-ingest), then every indicator, and prints the top 10
countries by Fitness and by ECI for the latest year. Runs are incremental: yearly files
ingested before and unchanged (name, size, modification time) are not read again, and only the
years whose flows or methodology settings changed, or that are missing from an output table,
are recomputed; --full-refresh re-ingests and recomputes every year.
"""

from __future__ import annotations

from pathlib import Path

from lib.datasets.provenance import SYNTHETIC_BANNER, DataSource
from lib.io.baci import BaciFormatError
from lib.io.place_activity import (
    PlaceActivityFormatError,
    check_source,
    read_place_activity,
)
from lib.run import progress
from lib.run.cli import common_parser, config_from_args, reachable_or_exit, storage_lost
from lib.run.config import Config
from lib.run.place_activity import (
    PLACE_ACTIVITY_TABLES,
    is_place_activity_source,
    resolve,
    run_place_activity,
)
from lib.run.place_names import top_places
from lib.run.prediction import run_prediction
from lib.run.run_log import RunRecord, warehouse_data_source
from lib.run.session import build_session
from lib.run.workflow import (
    absolute,
    job_settings,
    locate_release,
    run_indicators,
    run_ingest,
    top_table,
    with_default_attributes,
)


def _ingest_and_indicators(spark, config, release, run: RunRecord, full_refresh: bool) -> list[int]:
    if release is not None:
        report = run_ingest(spark, config, release, run, incremental=not full_refresh)
        print(
            f"Ingested {release.release} {release.hs_revision} "
            f"{report.years[0]}-{report.years[-1]}: {report.totals}"
        )
        if report.unchanged_years:
            print(f"  unchanged since the last ingest, not read: {report.unchanged_years}")
    years = run_indicators(spark, config, run, incremental=not full_refresh)
    if run.years != years:
        print(f"Indicators recomputed for {run.years or 'no year'} (the others are current)")
    run_prediction(spark, config, run)
    return years


def main() -> None:
    parser = common_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--no-ingest", action="store_true", help="use the flows already in the warehouse"
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="re-ingest every yearly file and recompute every year (default: only what changed)",
    )
    parser.add_argument("--top", type=int, default=10, help="rows in the printed top tables")
    parser.add_argument(
        "--report",
        metavar="DIR",
        help="place x activity tables: also write the regional report into DIR "
        "(as jobs/report.py --warehouse ... --out DIR)",
    )
    args = parser.parse_args()
    config = config_from_args(args)  # config errors stop here, before Spark starts
    reachable_or_exit(config.output.warehouse)
    if config.input.source and is_place_activity_source(config.input.source):
        place_activity_main(config, args.top, args.report)
        return
    try:
        release = None if args.no_ingest else locate_release(config)
    except BaciFormatError as exc:
        raise SystemExit(f"Input error: {exc}") from exc
    resolved = with_default_attributes(config)
    if resolved is not config:
        config = resolved
        print(
            "Country attributes: the embedded release's SYNTHETIC GDP per capita "
            f"({config.input.country_attributes}; illustrative, not real)"
        )

    with progress.stage("spark", detail="starting the Spark session"):
        spark = build_session(
            "ecomplexity-fitness",
            extra_conf={
                "spark.sql.shuffle.partitions": str(config.spark.shuffle_partitions),
            },
            verbose=args.verbose,
        )
    run = RunRecord("fitness", config)
    warehouse = config.output.warehouse
    with job_settings(spark, run):
        try:
            years = _ingest_and_indicators(spark, config, release, run, args.full_refresh)
            source = (
                DataSource((release.release,), release.source_kind)
                if release is not None
                else warehouse_data_source(spark, warehouse)
            )
            run.source_kind = source.kind
        except BaseException as exc:
            lost = storage_lost(warehouse) if isinstance(exc, Exception) else None
            if lost is not None:  # nothing more can be written there, the run log included
                raise SystemExit(f"Storage error during the run: {lost}") from exc
            run.write(spark, warehouse, "failed", error=f"{type(exc).__name__}: {exc}")
            raise
        run.write(spark, warehouse, "succeeded")

    latest = years[-1]
    print(data_banner(source))
    print(top_table(spark, warehouse, "fitness", latest, args.top))
    print(top_table(spark, warehouse, "eci", latest, args.top))
    print(f"\nRun {run.run_id} wrote its tables under {absolute(warehouse)}:")
    print("  country_year, product_year, country_product_year, product_proximity,")
    print(
        "  fitness_convergence, baci_flows, baci_quarantine, baci_countries, baci_products, run_log"
    )
    print("  product_opportunities, prediction_backtest, prediction_backtest_place")
    if config.input.country_attributes:
        print("  growth_forecast, growth_backtest (GDP per capita growth: SPS and baselines)")
    print(f"Stage seconds: {run.stage_seconds}")
    if source.synthetic:
        print(f"Reminder: {SYNTHETIC_BANNER} (run_log.source_kind = synthetic).")
    spark.stop()


def data_banner(source: DataSource) -> str:
    """What the printed numbers come from; a framed warning when they are synthetic."""
    if not source.synthetic:
        return f"\nData: {source.description()}"
    rule = "=" * 78
    return "\n".join(
        [
            "",
            rule,
            f"  {SYNTHETIC_BANNER}",
            f"  Data: {source.description()}.",
            "  Countries and HS products are real; the trade flows are invented. For real",
            "  results pass a CEPII BACI release: --source BACI_HS92_V202401.zip",
            rule,
        ]
    )


def place_activity_main(config: Config, top: int, report_dir: str | None = None) -> None:
    """The same stages on a place x activity table (docs/regional.md, "Regional data")."""
    path, descriptor = resolve(config)
    try:  # file-level faults stop here, before Spark starts (header, footers or log only)
        check_source(path)
    except PlaceActivityFormatError as exc:
        raise SystemExit(f"Input error: {exc}") from exc
    spark = build_session(
        "ecomplexity-fitness",
        extra_conf={"spark.sql.shuffle.partitions": str(config.spark.shuffle_partitions)},
    )
    try:  # the rows, read and checked by Spark tasks, before anything is written
        table = read_place_activity(spark, path)
    except PlaceActivityFormatError as exc:
        spark.stop()
        raise SystemExit(f"Input error: {exc}") from exc
    run = RunRecord("fitness", config)
    warehouse = config.output.warehouse
    with job_settings(spark, run):
        try:
            years = run_place_activity(spark, config, run, table, descriptor)
        except BaseException as exc:
            lost = storage_lost(warehouse) if isinstance(exc, Exception) else None
            if lost is not None:  # nothing more can be written there, the run log included
                raise SystemExit(f"Storage error during the run: {lost}") from exc
            run.write(spark, warehouse, "failed", error=f"{type(exc).__name__}: {exc}")
            raise
        run.write(spark, warehouse, "succeeded")
    label = " (SYNTHETIC data)" if descriptor.synthetic else ""
    print(f"Read {path}{label}: {table.counts}")
    print(top_places(spark, warehouse, "fitness", years[-1], top))
    print(top_places(spark, warehouse, "eci", years[-1], top))
    print(f"\nRun {run.run_id} wrote its tables under {absolute(warehouse)}:")
    print("  " + ", ".join(PLACE_ACTIVITY_TABLES) + ", fitness_convergence, run_log")
    if report_dir:
        from lib.report.regional_runner import run_regional_report

        run_regional_report(config, Path(report_dir), spark=spark)
    table.release()
    spark.stop()


if __name__ == "__main__":
    main()
