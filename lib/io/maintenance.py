"""Table maintenance: retention properties, VACUUM and a printable history of every table.

Why this exists: every run replaces slices of the tables (``replaceWhere``), so each run leaves
the previous files behind as "removed" files that time travel still uses. Delta keeps them until
a VACUUM deletes those removed more than ``deletedFileRetentionDuration`` ago, and drops log
entries older than ``logRetentionDuration`` at checkpoints. Both come from the config:

- ``output.deleted_file_retention_days``: how long after a run was *replaced* its files stay
  (time travel to it keeps working at least this long, even after VACUUM);
- ``output.log_retention_days``: how long the history (DESCRIBE HISTORY, versions) is kept.

A retention below Delta's own safety floor of 7 days (``MIN_DELETED_FILE_RETENTION_DAYS``) is
refused by the config, and Delta's retention check stays on: a concurrent reader
or a long job may still read files a run just replaced.

Must not delete files younger than the retention: VACUUM keeps what a running reader or time
travel may need.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession

from lib.io import delta
from lib.io.catalog import list_tables
from lib.io.delta import DELETED_FILE_RETENTION, LOG_RETENTION, properties_sql
from lib.run.config import MIN_DELETED_FILE_RETENTION_DAYS, OutputConfig

# VACUUM lists the table's files with this many tasks (Spark's default: 10,000, minutes of task
# scheduling for a table of a few hundred files).
LISTING_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism"
VACUUM_LISTING_TASKS = 16


def deleted_file_retention_days(output: OutputConfig) -> int:
    """The configured retention (the config refuses less than Delta's safety floor)."""
    return max(output.deleted_file_retention_days, MIN_DELETED_FILE_RETENTION_DAYS)


def retention_properties(output: OutputConfig) -> dict[str, str]:
    """The two Delta table properties for the configured retention."""
    return {
        LOG_RETENTION: f"interval {output.log_retention_days} days",
        DELETED_FILE_RETENTION: f"interval {deleted_file_retention_days(output)} days",
    }


def retention_defaults_conf(output: OutputConfig) -> dict[str, str]:
    """The session defaults that give the tables a job creates the configured retention; a job
    sets them for its own duration only (``lib.io.delta.session_conf``), and
    ``lib.io.delta.ensure_table`` brings existing tables in line with them."""
    return {
        delta.property_default_conf(key): value
        for key, value in retention_properties(output).items()
    }


@dataclass(frozen=True)
class TableState:
    name: str
    version: int
    retention: dict[str, str]
    history: list[dict[str, object]]
    vacuumed_files: int | None  # None: not vacuumed (dry run or skipped)


def apply_retention(spark: SparkSession, warehouse: str, output: OutputConfig) -> None:
    """Bring the retention properties of every existing table in line with the config."""
    wanted = retention_properties(output)
    for name in list_tables(spark, warehouse):
        path = delta.table_path(warehouse, name)
        current = delta.table_properties(spark, path)
        stale = {k: v for k, v in wanted.items() if current.get(k) != v}
        if stale:
            spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({properties_sql(stale)})")


def vacuum_table(spark: SparkSession, path: str, retention_days: int, dry_run: bool) -> int | None:
    """VACUUM with ``retention_days`` (never below the floor); returns the files (to be) deleted.

    Delta's ``retentionDurationCheck`` is left on, so a retention below the table's own
    ``deletedFileRetentionDuration`` is refused by Delta itself rather than obeyed. The count
    comes from the ``VACUUM END`` commit Delta logs (None if that logging is off); a dry run
    lists at most 1,000 files.
    """
    hours = max(retention_days, MIN_DELETED_FILE_RETENTION_DAYS) * 24
    statement = f"VACUUM delta.`{path}` RETAIN {hours} HOURS"
    with delta.session_conf(spark, {LISTING_PARALLELISM: str(VACUUM_LISTING_TASKS)}):
        if dry_run:
            return spark.sql(statement + " DRY RUN").count()
        spark.sql(statement).collect()
    last = delta.last_commit(spark, path)
    if last is None or last["operation"] != "VACUUM END":
        return None
    return int((last["operationMetrics"] or {}).get("numDeletedFiles", 0))


def table_history(spark: SparkSession, path: str, limit: int = 5) -> list[dict[str, object]]:
    """The latest commits: version, time, operation and the run that made them."""
    rows = spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT {limit}").collect()
    return [
        {
            "version": row["version"],
            "timestamp": row["timestamp"],
            "operation": row["operation"],
            "userMetadata": row["userMetadata"],
        }
        for row in rows
    ]


def maintain(
    spark: SparkSession, output: OutputConfig, dry_run: bool = False, history: int = 5
) -> list[TableState]:
    """Set the retention properties, VACUUM every table and collect versions and history."""
    warehouse = output.warehouse
    if not dry_run:
        apply_retention(spark, warehouse, output)
    states = []
    for name in list_tables(spark, warehouse):
        path = delta.table_path(warehouse, name)
        properties = delta.table_properties(spark, path)
        vacuumed = vacuum_table(spark, path, deleted_file_retention_days(output), dry_run)
        states.append(
            TableState(
                name=name,
                version=delta.table_version(spark, warehouse, name) or 0,
                retention={
                    k: properties.get(k, "(Delta default)")
                    for k in (LOG_RETENTION, DELETED_FILE_RETENTION)
                },
                history=table_history(spark, path, history),
                vacuumed_files=vacuumed,
            )
        )
    return states


def report(states: list[TableState], dry_run: bool) -> str:
    """A plain-text summary for the job's output."""
    verb = "would delete" if dry_run else "deleted"
    lines = []
    for state in states:
        lines.append(
            f"{state.name}: version {state.version}, VACUUM {verb} {state.vacuumed_files} "
            f"files; log kept {state.retention[LOG_RETENTION]}, removed files kept "
            f"{state.retention[DELETED_FILE_RETENTION]}"
        )
        for commit in state.history:
            lines.append(
                f"    v{commit['version']:<4} {commit['timestamp']}  {commit['operation']:<24} "
                f"{commit['userMetadata'] or ''}"
            )
    return "\n".join(lines)
