"""Ingest a BACI release (folder or zip) into the Delta tables baci_flows, baci_quarantine,
baci_countries and baci_products.

    ./spark-submit.sh jobs/ingest.py --source /data/BACI_HS92_V202401.zip [--years 2001-2005]

A thin entry point: the work is in ``lib.execution.ingest``.
"""

from __future__ import annotations

from lib.io.baci import BaciFormatError
from lib.run.cli import common_parser, config_from_args, reachable_or_exit
from lib.run.run_log import RunRecord
from lib.run.session import build_session
from lib.run.workflow import absolute, job_settings, locate_release, run_ingest


def main() -> None:
    args = common_parser(__doc__.splitlines()[0]).parse_args()
    config = config_from_args(args)
    reachable_or_exit(config.output.warehouse)
    try:
        release = locate_release(config)
    except BaciFormatError as exc:
        raise SystemExit(f"Input error: {exc}") from exc
    spark = build_session("ecomplexity-ingest", verbose=args.verbose)
    run = RunRecord("ingest", config)
    with job_settings(spark, run):
        try:
            report = run_ingest(spark, config, release, run)
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}"
            run.write(spark, config.output.warehouse, "failed", error=error)
            raise
        run.write(spark, config.output.warehouse, "succeeded")
    print(
        f"Run {run.run_id}: ingested {release.release} {release.hs_revision}, years {report.years}"
    )
    print(f"  {report.totals}; quarantine reasons: {report.quarantine_reasons or 'none'}")
    print(f"  tables under {absolute(config.output.warehouse)}")
    spark.stop()


if __name__ == "__main__":
    main()
