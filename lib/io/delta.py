"""Writing and reading the Delta tables: the one place that knows paths, modes and metadata.

Practices (docs/reading-tables.md, "Reading the tables"):
- every commit carries ``userMetadata`` with the run id, code version and BACI release;
- re-writing a slice uses ``replaceWhere`` so a rerun replaces, never duplicates, and the
  replacement is one atomic commit;
- tables stay at reader version 1 without deletion vectors or column mapping, so delta-rs and
  DuckDB read them; CHECK and NOT NULL constraints only raise the writer version.

Only Spark SQL and the DataFrame API are used (no ``delta.tables.DeltaTable``, which needs
py4j or a Delta Connect plugin): the same code runs in classic mode and through Spark Connect.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import pyarrow as pa
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession

from lib import __version__
from lib.io.filesystems import arrow_filesystem, is_local
from lib.tables import TABLES, Table, conform

# Table names are stable: BI users and notebooks depend on them (docs/data-dictionary.md, "Data dictionary").
FLOWS = "baci_flows"
COUNTRIES = "baci_countries"
PRODUCTS = "baci_products"
QUARANTINE = "baci_quarantine"
COUNTRY_YEAR = "country_year"
PRODUCT_YEAR = "product_year"
COUNTRY_PRODUCT_YEAR = "country_product_year"
PRODUCT_PROXIMITY = "product_proximity"
PRODUCT_BICM_LINKS = "product_bicm_links"
FITNESS_CONVERGENCE = "fitness_convergence"
RUN_LOG = "run_log"

READER_FRIENDLY_PROPERTIES = {
    "delta.enableDeletionVectors": "false",
    "delta.minReaderVersion": "1",
}
LOG_RETENTION = "delta.logRetentionDuration"
DELETED_FILE_RETENTION = "delta.deletedFileRetentionDuration"
# Delta stamps every commit of the session with this conf (OPTIMIZE too, which takes no option).
COMMIT_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"
# Session defaults that Delta copies into the properties of every table it creates
# (spark.databricks.delta.properties.defaults.<key without "delta.">).
PROPERTY_DEFAULTS_PREFIX = "spark.databricks.delta.properties.defaults."


def property_default_conf(key: str) -> str:
    """The session conf holding the default of table property ``key`` (``delta.x`` -> ...x)."""
    return PROPERTY_DEFAULTS_PREFIX + key.removeprefix("delta.")


def wanted_table_properties(spark: SparkSession) -> dict[str, str]:
    """The retention properties a running job set for its tables (``lib.run.workflow.job_settings``,
    scoped to the job); empty outside a job."""
    wanted = {}
    for key in (LOG_RETENTION, DELETED_FILE_RETENTION):
        value = spark.conf.get(property_default_conf(key), None)
        if value:
            wanted[key] = value
    return wanted


def table_path(warehouse: str, name: str) -> str:
    return f"{warehouse.rstrip('/')}/{name}"


def commit_metadata(run_id: str, **extra: str) -> str:
    return json.dumps({"run_id": run_id, "code_version": __version__, **extra}, sort_keys=True)


@contextmanager
def session_conf(spark: SparkSession, conf: Mapping[str, str]) -> Iterator[None]:
    """Set session configuration for the duration of a block and put back what was there: a
    job run from a user's notebook session leaves that session as it found it."""
    saved = {key: spark.conf.get(key, None) for key in conf}
    for key, value in conf.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def is_delta_table(spark: SparkSession, path: str) -> bool:
    """Whether ``path`` holds a Delta table (a local path is checked on disk, any other URI
    by asking Delta through SQL)."""
    if is_local(path):
        fs, root = arrow_filesystem(path)
        from pyarrow.fs import FileSelector, FileType

        log = f"{root.rstrip('/')}/_delta_log"
        if fs.get_file_info(log).type != FileType.Directory:
            return False
        return any(
            info.path.endswith(".json")
            for info in fs.get_file_info(FileSelector(log, allow_not_found=True))
        )
    try:
        detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()
    except AnalysisException:
        return False
    return detail is not None and detail["format"] == "delta"


def table_exists(spark: SparkSession, warehouse: str, name: str) -> bool:
    return is_delta_table(spark, table_path(warehouse, name))


# WHY delta-rs for the metadata of local tables: Spark answers DESCRIBE DETAIL / HISTORY with a
# query of its own (0.7-1 s each on a small machine, 5 s for the first); delta-rs reads the
# same log in milliseconds. Other URIs (s3a://, abfss://...) need the cluster's credentials,
# which only Spark has: asked through SQL.


def _local_log(path: str):
    """The delta-rs view of a local table's log (None for other URIs)."""
    if not is_local(path):
        return None
    from deltalake import DeltaTable

    return DeltaTable(path)


def table_properties(spark: SparkSession, path: str) -> dict[str, str]:
    local = _local_log(path)
    if local is not None:
        return dict(local.metadata().configuration)
    return spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["properties"] or {}


def table_columns(spark: SparkSession, path: str) -> list[str]:
    local = _local_log(path)
    if local is not None:
        return [field.name for field in local.schema().fields]
    return spark.read.format("delta").load(path).columns


def write_table(
    df: DataFrame,
    warehouse: str,
    name: str,
    run_id: str,
    *,
    replace_where: str | None = None,
    partition_by: Iterable[str] = (),
    metadata: dict[str, str] | None = None,
) -> None:
    """Overwrite the table, or only the rows matching ``replace_where``, in one commit.

    Tables of the data dictionary (``lib.tables``) are created from it first (``ensure_table``)
    and the rows conformed to it: column order, types and comments.
    """
    contract = TABLES.get(name)
    path = table_path(warehouse, name)
    if contract is not None:
        ensure_table(df.sparkSession, path, contract)
        df = conform(df, name)
        partition_by = ()  # the table already exists with its partitioning
    writer = (
        df.write.format("delta")
        .mode("overwrite")
        .option("userMetadata", commit_metadata(run_id, **(metadata or {})))
    )
    if replace_where is not None:
        writer = writer.option("replaceWhere", replace_where)
    elif contract is None:
        writer = writer.option("overwriteSchema", "true")
    partition_by = list(partition_by)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(path)


def _sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def properties_sql(properties: Mapping[str, str]) -> str:
    """``{'a': 'x'}`` -> ``'a' = 'x'`` for ``TBLPROPERTIES (...)``."""
    return ", ".join(
        f"{_sql_string(key)} = {_sql_string(value)}" for key, value in sorted(properties.items())
    )


def create_table_sql(path: str, table: Table, properties: Mapping[str, str]) -> str:
    """``CREATE TABLE IF NOT EXISTS`` of a data-dictionary table at ``path``: its columns with
    NOT NULL and comments, partitioning, comment and ``properties`` (CHECK constraints
    included, so a new table gets them in its first commit)."""
    columns = ",\n  ".join(
        f"`{c.name}` {c.type}{'' if c.nullable else ' NOT NULL'} COMMENT {_sql_string(c.comment)}"
        for c in table.columns
    )
    partitioned = (
        f"\nPARTITIONED BY ({', '.join(f'`{c}`' for c in table.partition_by)})"
        if table.partition_by
        else ""
    )
    return (
        f"CREATE TABLE IF NOT EXISTS delta.`{path}` (\n  {columns}\n) USING DELTA{partitioned}"
        f"\nCOMMENT {_sql_string(table.comment)}\nTBLPROPERTIES ({properties_sql(properties)})"
    )


def ensure_table(spark: SparkSession, path: str, table: Table) -> None:
    """Create the table from the data dictionary if needed, with its comment, column comments,
    NOT NULL columns, CHECK constraints and the running job's retention properties
    (``wanted_table_properties``); bring an existing table's properties and constraints in
    line.

    Constraints raise only the writer protocol version, so delta-rs and DuckDB still read the
    table, and from then on Delta refuses any write that breaks them.
    """
    pending = _PENDING.get(path)
    if pending is not None and threading.current_thread() is not _BACKGROUND.get(path):
        pending.exception()  # wait for tables_ensured_meanwhile (its error is raised below)
    wanted = wanted_table_properties(spark)
    # WHY remember: checking costs Delta log reads (~1 s a table on a small machine) and a job
    # writes each table several times; once checked in this session with the same wanted
    # properties, a table that still exists needs nothing more.
    key = (path, table.name, tuple(sorted(wanted.items())))
    exists = is_delta_table(spark, path)
    if key in _ENSURED and exists:
        return
    constraints = {
        f"delta.constraints.{name.lower()}": expression for name, expression in table.checks.items()
    }
    if not exists:
        all_properties = {"delta.enableDeletionVectors": "false", **wanted, **constraints}
        spark.sql(create_table_sql(path, table, all_properties))
    # A table made before (or concurrently, or by an earlier version): add what it lacks.
    current = table_properties(spark, path)
    if exists:  # nullable columns added to the data dictionary since (e.g. run_log.source_kind)
        present = set(table_columns(spark, path))
        added = [c for c in table.columns if c.name not in present and c.nullable]
        if added:
            columns = ", ".join(
                f"`{c.name}` {c.type} COMMENT {_sql_string(c.comment)}" for c in added
            )
            spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({columns})")
    stale = {k: v for k, v in wanted.items() if current.get(k) != v}
    if stale:
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({properties_sql(stale)})")
    for constraint, expression in table.checks.items():
        if f"delta.constraints.{constraint.lower()}" not in current:
            spark.sql(
                f"ALTER TABLE delta.`{path}` ADD CONSTRAINT {constraint} CHECK ({expression})"
            )
    _ENSURED.add(key)


_ENSURED: set[tuple] = set()  # tables ensure_table has checked (see there)
_PENDING: dict[str, Future] = {}  # path -> its ensure_table in tables_ensured_meanwhile
_BACKGROUND: dict[str, threading.Thread] = {}


@contextmanager
def tables_ensured_meanwhile(
    spark: SparkSession, warehouse: str, names: Iterable[str]
) -> Iterator[None]:
    """``ensure_table`` of the named data-dictionary tables, in that order, in a thread of
    their own while the body runs; an ``ensure_table`` of one of them in the body waits for it
    (and, had it failed, tries again and raises). For the tables a stage writes, around the
    stage, those needed first first. WHY: a new table's ``CREATE TABLE`` is a Spark SQL command
    of 0.3-1 s on a small machine, and the default job made 17 of them one after the other;
    made while the stage's tasks run (Python workers), their time is hidden. One thread: two
    made at once took as long as one after the other (measured)."""
    paths = [(table_path(warehouse, name), TABLES[name]) for name in names if name in TABLES]
    paths = [(path, table) for path, table in paths if path not in _PENDING]

    def ensure(path: str, table: Table) -> None:
        _BACKGROUND[path] = threading.current_thread()
        try:
            ensure_table(spark, path, table)
        except Exception as error:  # the body's own ensure_table raises it again
            _PENDING[path].set_exception(error)
        else:
            _PENDING[path].set_result(None)

    for path, _ in paths:
        _PENDING[path] = Future()
    executor = ThreadPoolExecutor(1, thread_name_prefix="ensure-tables")
    for path, table in paths:
        executor.submit(ensure, path, table)
    try:
        yield
    finally:
        executor.shutdown(wait=True)
        for path, _ in paths:
            _PENDING.pop(path, None)
            _BACKGROUND.pop(path, None)


def write_arrow_rows(
    spark: SparkSession,
    rows: pa.Table,
    warehouse: str,
    name: str,
    run_id: str,
    *,
    writer: str,
    replace_where: str | None = None,
    append: bool = False,
    metadata: dict[str, str] | None = None,
) -> None:
    """Rows the driver holds (Arrow) into a data-dictionary table, in one commit: by delta-rs
    where the large tables are written with Arrow too (``output.writer``, see
    ``lib.io.delta_arrow.use_arrow_writer``), else by Spark's writer. ``append`` adds them;
    otherwise they replace the rows matching ``replace_where`` (all rows without it)."""
    from lib.io import delta_arrow

    user_metadata = commit_metadata(run_id, **(metadata or {}))
    if delta_arrow.use_arrow_writer(writer, warehouse):
        path = table_path(warehouse, name)
        ensure_table(spark, path, TABLES[name])
        delta_arrow.write_rows(
            path, name, rows, user_metadata, replace_where=replace_where, append=append
        )
        return
    df = spark.createDataFrame(rows)
    if append:
        append_rows(df, warehouse, name, run_id)
    else:
        write_table(df, warehouse, name, run_id, replace_where=replace_where, metadata=metadata)


def append_rows(df: DataFrame, warehouse: str, name: str, run_id: str) -> None:
    path = table_path(warehouse, name)
    contract = TABLES.get(name)
    if contract is not None:
        ensure_table(df.sparkSession, path, contract)
        df = conform(df, name)
    df.write.format("delta").mode("append").option("userMetadata", commit_metadata(run_id)).save(
        path
    )


def read_table(
    spark: SparkSession, warehouse: str, name: str, version: int | None = None
) -> DataFrame:
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(table_path(warehouse, name))


def read_arrow(
    spark: SparkSession, warehouse: str, name: str, columns: list[str] | None = None
) -> pa.Table:
    """A small table's rows on the driver (code lists, bookkeeping, yearly country rows): by
    delta-rs for a local table (no Spark job), else collected by Spark as Arrow."""
    path = table_path(warehouse, name)
    local = _local_log(path)
    if local is not None:
        return local.to_pyarrow_table(columns=columns)
    df = read_table(spark, warehouse, name)
    return (df.select(*columns) if columns else df).toArrow()


def table_years(spark: SparkSession, warehouse: str, name: str, column: str = "year") -> set[int]:
    """The distinct values of ``column`` in the table: for a local table partitioned by it,
    read off the log's file list (no data read); otherwise the column's distinct values."""
    path = table_path(warehouse, name)
    local = _local_log(path)
    if local is None:
        df = read_table(spark, warehouse, name)
        return {r[0] for r in df.select(column).distinct().collect()}
    if column in local.metadata().partition_columns:
        files = local.get_add_actions(flatten=True)
        counts = files.column("num_records").to_pylist()
        values = files.column(f"partition.{column}").to_pylist()
        return {int(v) for v, n in zip(values, counts, strict=True) if n is None or n > 0}
    return {int(v) for v in local.to_pyarrow_table(columns=[column]).column(column).unique()}


def last_commit(spark: SparkSession, path: str) -> dict | None:
    """The table's latest commit (version, operation, operationMetrics, userMetadata, ...)."""
    local = _local_log(path)
    if local is not None:
        history = local.history(1)
        return {**history[0], "version": local.version()} if history else None
    row = spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()
    return None if row is None else row.asDict()


def table_version(spark: SparkSession, warehouse: str, name: str) -> int | None:
    """The latest commit version, recorded in the run log as the version of an input table."""
    if not table_exists(spark, warehouse, name):
        return None
    commit = last_commit(spark, table_path(warehouse, name))
    return None if commit is None else int(commit["version"])


def year_predicate(years: Iterable[int], column: str = "year") -> str:
    years = sorted(set(years))
    return f"{column} IN ({', '.join(str(y) for y in years)})"
