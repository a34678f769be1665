"""Maintenance job: retention properties, VACUUM and the history of every table.

    ./spark-submit.sh jobs/maintain.py --warehouse /data/warehouse            # VACUUM every table
    ./spark-submit.sh jobs/maintain.py --warehouse /data/warehouse --dry-run  # only list
    ./spark-submit.sh jobs/maintain.py --set output.deleted_file_retention_days=30

Time travel to a replaced run keeps working for output.deleted_file_retention_days (at least
Delta's 7-day floor) after it was replaced; docs/cluster.md, "Maintenance", has the policy.

A thin entry point: the work is in ``lib.io.maintenance``.
"""

from __future__ import annotations

from lib.io.delta import COMMIT_METADATA_CONF, commit_metadata, session_conf
from lib.io.maintenance import maintain, report
from lib.run.cli import common_parser, config_from_args, reachable_or_exit
from lib.run.run_log import new_run_id
from lib.run.session import build_session
from lib.run.workflow import absolute


def main() -> None:
    parser = common_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--dry-run", action="store_true", help="list what VACUUM would delete, change nothing"
    )
    parser.add_argument("--history", type=int, default=5, help="commits shown per table")
    args = parser.parse_args()
    config = config_from_args(args)  # config errors stop here, before Spark starts
    reachable_or_exit(config.output.warehouse)

    spark = build_session("ecomplexity-maintain", verbose=args.verbose)
    # VACUUM and property changes are commits too: say which job made them.
    stamp = {COMMIT_METADATA_CONF: commit_metadata(new_run_id(), job="maintain")}
    with session_conf(spark, stamp):
        states = maintain(spark, config.output, dry_run=args.dry_run, history=args.history)
    if not states:
        raise SystemExit(f"No Delta tables under {absolute(config.output.warehouse)}.")
    print(f"Tables under {absolute(config.output.warehouse)}:")
    print(report(states, args.dry_run))
    spark.stop()


if __name__ == "__main__":
    main()
