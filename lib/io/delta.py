"""Writing and reading the Delta tables: the one place that knows paths, modes and metadata.

Practices (README, "Reading the tables"):
- every commit carries ``userMetadata`` with the run id, code version and BACI release;
- re-writing a slice uses ``replaceWhere`` so a rerun replaces, never duplicates, and the
  replacement is one atomic commit;
- tables stay at reader version 1 without deletion vectors or column mapping, so delta-rs and
  DuckDB read them; CHECK and NOT NULL constraints only raise the writer version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from pyspark.sql import DataFrame, SparkSession

from lib import __version__
from lib.tables import TABLES, Table, conform, spark_schema

# Table names are stable: BI users and notebooks depend on them (README, "Data dictionary").
FLOWS = "baci_flows"
COUNTRIES = "baci_countries"
PRODUCTS = "baci_products"
QUARANTINE = "baci_quarantine"
COUNTRY_YEAR = "country_year"
PRODUCT_YEAR = "product_year"
COUNTRY_PRODUCT_YEAR = "country_product_year"
PRODUCT_PROXIMITY = "product_proximity"
FITNESS_CONVERGENCE = "fitness_convergence"
RUN_LOG = "run_log"

READER_FRIENDLY_PROPERTIES = {
    "delta.enableDeletionVectors": "false",
    "delta.minReaderVersion": "1",
}


def table_path(warehouse: str, name: str) -> str:
    return f"{warehouse.rstrip('/')}/{name}"


def commit_metadata(run_id: str, **extra: str) -> str:
    return json.dumps({"run_id": run_id, "code_version": __version__, **extra}, sort_keys=True)


def table_exists(spark: SparkSession, warehouse: str, name: str) -> bool:
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, table_path(warehouse, name))


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

    Tables of the data dictionary (``lib.tables``) are conformed to it first: column order,
    types and comments; their constraints are added after the first write.
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


def ensure_table(spark: SparkSession, path: str, table: Table) -> None:
    """Create the table from the data dictionary if needed, with its comment, column comments,
    NOT NULL columns and CHECK constraints.

    These raise only the writer protocol version, so delta-rs and DuckDB still read the table,
    and from then on Delta refuses any write that breaks them.
    """
    from delta.tables import DeltaTable

    from lib.maintenance import properties_sql, wanted_table_properties

    wanted = wanted_table_properties(spark)
    # WHY remember: checking costs four Delta log reads (~1 s a table on a small machine) and
    # a job writes each table several times; once checked in this session with the same
    # wanted properties, a table that still exists needs nothing more.
    key = (id(spark), path, table.name, tuple(sorted(wanted.items())))
    exists = DeltaTable.isDeltaTable(spark, path)
    if key in _ENSURED and exists:
        return
    constraints = {
        f"delta.constraints.{name.lower()}": expression for name, expression in table.checks.items()
    }
    if not exists:
        # A new table gets its properties and CHECK constraints in its first commit (one commit
        # instead of one per constraint: ~3 s less per table).
        builder = (
            DeltaTable.createIfNotExists(spark)
            .location(path)
            .addColumns(spark_schema(table.name))
            .partitionedBy(*table.partition_by)
            .comment(table.comment)
        )
        properties = {"delta.enableDeletionVectors": "false", **wanted, **constraints}
        for name, value in properties.items():
            builder = builder.property(name, value)
        builder.execute()
    # A table made before (or concurrently, or by an earlier version): add what it lacks.
    properties = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["properties"] or {}
    # The configured retention (lib.maintenance) for tables made before it was set or changed.
    stale = {k: v for k, v in wanted.items() if properties.get(k) != v}
    if stale:
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({properties_sql(stale)})")
    for constraint, expression in table.checks.items():
        if f"delta.constraints.{constraint.lower()}" not in properties:
            spark.sql(
                f"ALTER TABLE delta.`{path}` ADD CONSTRAINT {constraint} CHECK ({expression})"
            )
    _ENSURED.add(key)


_ENSURED: set[tuple] = set()  # tables ensure_table has checked (see there)


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


def table_version(spark: SparkSession, warehouse: str, name: str) -> int | None:
    """The latest commit version, recorded in the run log as the version of an input table."""
    if not table_exists(spark, warehouse, name):
        return None
    from delta.tables import DeltaTable

    history = DeltaTable.forPath(spark, table_path(warehouse, name)).history(1)
    return int(history.select("version").first()[0])


def year_predicate(years: Iterable[int], column: str = "year") -> str:
    years = sorted(set(years))
    return f"{column} IN ({', '.join(str(y) for y in years)})"
