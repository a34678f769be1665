"""Command-line options shared by the jobs; the config is built and checked before Spark starts.

Must not start Spark: a bad option fails before the JVM starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from lib.run.config import Config, ConfigError, load_config


def common_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--source",
        help="BACI release folder or zip (local path or Hadoop URI); default: the embedded release",
    )
    parser.add_argument("--warehouse", help="where the Delta tables go (default ./warehouse)")
    parser.add_argument("--years", help="years to process, e.g. 1995-2010 or 2001,2005")
    parser.add_argument(
        "--config", help="a preset TOML layered on conf/default.toml, e.g. conf/atlas.toml"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config option, e.g. --set fitness.max_iterations=19 (repeatable)",
    )
    add_verbose(parser)
    return parser


def add_verbose(parser: argparse.ArgumentParser) -> None:
    """``--verbose``: Spark's INFO log lines on the console (quiet by default, conf/log4j2.properties).
    spark-submit.sh reads the flag too: it decides how the driver JVM logs, before Python runs."""
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show Spark's INFO log lines (default: warnings only)",
    )


def config_from_args(args: argparse.Namespace) -> Config:
    """Layer defaults, preset, --set and the shortcut flags; exit with the key on any error."""
    overrides = list(args.overrides)
    if args.source:
        overrides.append(f"input.source={_quoted(args.source)}")
    if args.warehouse:
        overrides.append(f"output.warehouse={_quoted(args.warehouse)}")
    if args.years:
        overrides.append(f"input.years={_quoted(args.years)}")
    try:
        config = load_config(args.config, overrides)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    return with_absolute_warehouse(config)


def with_absolute_warehouse(config: Config) -> Config:
    """A local warehouse path made absolute. WHY: Delta's table builder refuses a path such as
    ``./warehouse/run_log``, and on a cluster a relative path would mean each node's own
    working directory."""
    warehouse = config.output.warehouse
    if "://" in warehouse or os.path.isabs(warehouse):
        return config
    output = dataclasses.replace(config.output, warehouse=os.path.abspath(warehouse))
    return dataclasses.replace(config, output=output)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def reachable_or_exit(warehouse: str) -> None:
    """Stop the job with a storage error naming the warehouse URI if it is an object store
    that cannot be reached (``lib.io.object_stores.check_reachable``), before Spark starts."""
    from lib.io.object_stores import StorageError, check_reachable

    try:
        check_reachable(warehouse)
    except StorageError as exc:
        raise SystemExit(f"Storage error: {exc}") from exc


def storage_lost(warehouse: str) -> str | None:
    """After a job failed: why, if its object-store warehouse can no longer be reached (the
    server stopped, credentials withdrawn mid-run), naming the URI; None if it can (the
    failure was something else) or is not an object store."""
    from lib.io.object_stores import StorageError, check_reachable

    try:
        check_reachable(warehouse)
    except StorageError as exc:
        return str(exc)
    return None
