"""Optional registration of the Delta tables in a metastore, so SQL clients find them by name.

The tables are always written by path (``lib.io.delta``); the path is the contract, and the
catalog entry is only a name pointing at it (an *external* table: ``DROP TABLE`` removes the
name, never the data). With ``output.catalog_database = "ecx"`` every job registers the tables it
wrote as ``ecx.country_year`` and so on.

Where the names live depends on the session's catalog: a plain session (tests, local runs) has
Spark's in-memory catalog, which forgets the names when the session ends; a persistent metastore
needs ``enableHiveSupport()`` with a Hive metastore (``spark.sql.catalogImplementation=hive``),
or Unity Catalog on Databricks (``catalog_database = "main.ecx"``). See docs/cluster.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pyarrow.fs import FileSelector, FileType
from pyspark.sql import SparkSession

from lib.io import delta
from lib.io.filesystems import arrow_filesystem
from lib.run.config.sections import _DATABASE_NAME, OutputConfig
from lib.tables import TABLES

# A database, or catalog.database (Unity Catalog); plain identifiers only, so no quoting games.
_DATABASE = _DATABASE_NAME

# Every job appends to the run log at its end; it is registered up front (created empty from
# the data dictionary if needed) so that a first run already finds it by name.
ALWAYS_REGISTERED = (delta.RUN_LOG,)


class CatalogError(ValueError):
    """A name in the catalog points somewhere else: we refuse to silently leave it stale."""


def quote_database(database: str) -> str:
    """``ecx`` -> `` `ecx` ``; ``main.ecx`` -> `` `main`.`ecx` ``, after checking the name."""
    if not _DATABASE.match(database):
        raise CatalogError(
            f"output.catalog_database '{database}' is not a database name such as ecx "
            "or catalog.database such as main.ecx (letters, digits and _ only)"
        )
    return ".".join(f"`{part}`" for part in database.split("."))


def list_tables(spark: SparkSession, warehouse: str) -> list[str]:
    """Every Delta table directly under the warehouse: the data dictionary's first, in its
    order, then any other (the report's tables, a user's) by name.

    Listed with Arrow's file systems (local disks and mounts, S3, GCS, HDFS, Azure, with
    credentials from the environment). Where Arrow cannot list the warehouse, the names this
    project writes are asked of Delta one by one through SQL, which reaches any URI Spark can.
    """
    try:
        found = _listed_tables(warehouse)
    except (OSError, ValueError, ImportError):  # no Arrow file system or credentials for it
        from lib.tables.report import REPORT_TABLES

        found = {
            name
            for name in (*TABLES, *REPORT_TABLES)
            if delta.is_delta_table(spark, delta.table_path(warehouse, name))
        }
    return [n for n in TABLES if n in found] + sorted(found - set(TABLES))


def _listed_tables(warehouse: str) -> set[str]:
    fs, root = arrow_filesystem(warehouse)
    if fs.get_file_info(root).type != FileType.Directory:
        return set()
    return {
        info.base_name
        for info in fs.get_file_info(FileSelector(root))
        if info.type == FileType.Directory
        and fs.get_file_info(f"{info.path}/_delta_log").type == FileType.Directory
    }


def register_tables(
    spark: SparkSession, output: OutputConfig, names: Iterable[str] | None = None
) -> list[str]:
    """Register the Delta tables under ``output.warehouse`` in ``output.catalog_database``.

    A no-op when no database is configured. ``names`` defaults to every Delta table under the
    warehouse (``list_tables``); the run log is created first if missing. Returns the qualified
    names registered. Idempotent: a name already pointing at the same location is kept.
    """
    if not output.catalog_database:
        return []
    database = quote_database(output.catalog_database)
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    warehouse = absolute_location(output.warehouse)
    for name in ALWAYS_REGISTERED:
        delta.ensure_table(spark, delta.table_path(warehouse, name), TABLES[name])
    registered = []
    for name in list_tables(spark, warehouse) if names is None else names:
        path = delta.table_path(warehouse, name)
        if not delta.table_exists(spark, warehouse, name):
            continue
        qualified = f"{database}.`{name}`"
        _check_location(spark, qualified, path)
        escaped = path.replace("\\", "\\\\").replace("'", "\\'")
        spark.sql(f"CREATE TABLE IF NOT EXISTS {qualified} USING DELTA LOCATION '{escaped}'")
        registered.append(f"{output.catalog_database}.{name}")
    return registered


def absolute_location(warehouse: str) -> str:
    """A metastore stores locations verbatim, so a relative warehouse is made absolute first."""
    if "://" in warehouse or warehouse.startswith("file:"):
        return warehouse.rstrip("/")
    return str(Path(warehouse).resolve())


def _check_location(spark: SparkSession, qualified: str, path: str) -> None:
    if not spark.catalog.tableExists(qualified.replace("`", "")):
        return
    location = spark.sql(f"DESCRIBE DETAIL {qualified}").first()["location"]
    if _normalised(location) != _normalised(path):
        raise CatalogError(
            f"{qualified.replace('`', '')} is already registered at {location}, not at {path}. "
            f"Drop the name (DROP TABLE {qualified} removes only the name of an external "
            "table; check it is one with DESCRIBE EXTENDED) or set another "
            "output.catalog_database."
        )


def _normalised(location: str) -> str:
    for prefix in ("file://", "file:"):
        if location.startswith(prefix):
            location = location[len(prefix) :]
            break
    return location.rstrip("/")
