"""Delta tables written from Arrow: Parquet files written by pyarrow inside Spark tasks, then
one Delta commit of those files by delta-rs on the driver.

WHY: the flows are parsed and checked by Arrow in Python tasks (lib.io.baci), and the country x
product grid and the proximity pairs are computed by numpy in Python tasks (lib.measures.yearly).
Handing ~9 million flows a year to Spark's own writer cost ~10 s converting Arrow batches to
JVM rows and ~14 s writing them again as Parquet, per year and core; pyarrow writes the same
file in ~1 s. Only the file descriptions (a few hundred bytes a file) travel to the driver.

What Delta's own writer would do is done here too:
- every file is an ``add`` action with its partition values, size and column statistics
  (``numRecords``, ``minValues``, ``maxValues``, ``nullCount``), which Spark's data skipping,
  delta-rs and DuckDB read;
- the table's NOT NULL columns and CHECK constraints are checked on each file's rows before
  the file is written (Delta's writer checks them; files committed this way bypass it);
- replacing partitions removes their current files in the same commit, recorded as a WRITE
  with its predicate as ``replaceWhere`` would be: atomic, and a rerun replaces, never
  duplicates. A task that fails or is retried leaves at most an uncommitted file, which no
  reader sees and VACUUM removes.

The commit goes through delta-rs's public transaction API (``create_write_transaction``), on
the driver: no JVM internals, so it works in classic mode and through Spark Connect alike.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lib.io.delta_commits import commit_strictly
from lib.io.filesystems import arrow_filesystem, arrow_uri, is_local, is_s3
from lib.tables import TABLES, arrow_file_schema

# Delta keeps string statistics to this prefix (dataSkippingStringPrefixLength); longer strings
# get no min/max here rather than a truncated one.
STRING_STATS_LENGTH = 32


class ConstraintViolationError(ValueError):
    """Rows that break a NOT NULL column or a CHECK constraint of the table."""


def check_constraints(table: pa.Table, name: str, partition: Mapping[str, object]) -> None:
    """Raise ``ConstraintViolationError`` if a row breaks the table's NOT NULL columns or CHECKs.

    The CHECK expressions of the data dictionary (SQL) are evaluated by DuckDB on the Arrow
    rows, with the partition values as constant columns; a row passes only where the
    expression is true (null fails, as in Delta).
    """
    contract = TABLES[name]
    for column in contract.columns:
        if not column.nullable and column.name in table.column_names:
            nulls = table.column(column.name).null_count
            if nulls:
                raise ConstraintViolationError(
                    f"{name}: {nulls} row(s) with a null {column.name} (NOT NULL), {partition}"
                )
    if not contract.checks:
        return
    constants = ", ".join(f"{_sql_literal(v)} AS {k}" for k, v in partition.items())
    con = duckdb.connect()
    con.register("rows", table)
    try:
        for constraint, expression in contract.checks.items():
            query = (
                f"SELECT count(*) FROM (SELECT *{', ' + constants if constants else ''} FROM rows) "
                f"WHERE NOT coalesce(({expression}), false)"
            )
            failing = con.execute(query).fetchone()[0]
            if failing:
                raise ConstraintViolationError(
                    f"{name}: {failing} row(s) break CHECK {constraint} ({expression}), "
                    f"{dict(partition)}"
                )
    finally:
        con.close()


def column_stats(table: pa.Table) -> dict:
    """Delta's per-file statistics of the columns (numbers, and strings up to 32 characters)."""
    minimum, maximum, nulls = {}, {}, {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        nulls[name] = column.null_count
        if column.null_count == len(column):
            continue
        kind = column.type
        if pa.types.is_floating(kind) and pc.any(pc.is_nan(column)).as_py():
            continue  # NaN has no place in min/max: leave the column unskippable
        if not (
            pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_string(kind)
        ):
            continue
        low, high = pc.min_max(column).values()
        low, high = low.as_py(), high.as_py()
        if pa.types.is_string(kind) and max(len(low), len(high)) > STRING_STATS_LENGTH:
            continue
        minimum[name], maximum[name] = low, high
    return {
        "numRecords": table.num_rows,
        "minValues": minimum,
        "maxValues": maximum,
        "nullCount": nulls,
    }


def write_data_file(
    table: pa.Table, table_uri: str, name: str, partition: Mapping[str, int]
) -> dict:
    """Write ``table`` (the table's columns, partition columns excluded) as one Parquet file
    under ``table_uri`` and return its Delta ``add`` action. Runs inside a Spark task."""
    writer = DataFileWriter(table_uri, name, partition, allow_empty=True)
    writer.write(table)
    return writer.close()


class DataFileWriter:
    """One Parquet data file of a Delta table written piece by piece (a row group or more per
    ``write``), so a task streaming its rows holds one piece at a time; ``close`` returns the
    file's Delta ``add`` action, statistics merged over the pieces, or None if no row came.
    Runs inside a Spark task; the file is created at the first non-empty piece (or the first
    piece with ``allow_empty``)."""

    def __init__(
        self,
        table_uri: str,
        name: str,
        partition: Mapping[str, int],
        allow_empty: bool = False,
    ) -> None:
        self.name, self.partition, self.allow_empty = name, dict(partition), allow_empty
        self.schema = arrow_file_schema(name)
        folder = "/".join(f"{k}={int(v)}" for k, v in partition.items())
        self.relative = f"{folder}/part-{uuid.uuid4()}.arrow.snappy.parquet".lstrip("/")
        self.fs, root = arrow_filesystem(table_uri)
        self.target = f"{root.rstrip('/')}/{self.relative}"
        self._writer: pq.ParquetWriter | None = None
        self._stats: dict | None = None
        self._unskippable: set[str] = set()  # a piece had NaN or a long string

    def write(self, table: pa.Table) -> None:
        table = table.select(self.schema.names).cast(self.schema)
        check_constraints(table, self.name, self.partition)
        if table.num_rows == 0 and (self._writer is not None or not self.allow_empty):
            return  # no empty row groups
        if self._writer is None:
            self.fs.create_dir(self.target.rsplit("/", 1)[0], recursive=True)
            # Measured values (floating point) are nearly all distinct: a dictionary attempt per
            # column chunk is wasted work, as in Spark's writer settings for the flows.
            dictionary = [f.name for f in self.schema if not pa.types.is_floating(f.type)]
            self._writer = pq.ParquetWriter(
                self.target,
                self.schema,
                filesystem=self.fs,
                compression="snappy",
                use_dictionary=dictionary,
            )
        self._writer.write_table(table)
        self._merge(column_stats(table))

    def _merge(self, piece: dict) -> None:
        if self._stats is None or self._stats["numRecords"] == 0:
            self._stats = piece
            return
        stats, rows = self._stats, piece["numRecords"]
        for column, nulls in piece["nullCount"].items():
            if nulls == rows:  # all null here: no bound, nothing to merge
                stats["nullCount"][column] += nulls
                continue
            if column not in piece["minValues"]:
                self._unskippable.add(column)
            elif column in stats["minValues"]:
                stats["minValues"][column] = min(
                    stats["minValues"][column], piece["minValues"][column]
                )
                stats["maxValues"][column] = max(
                    stats["maxValues"][column], piece["maxValues"][column]
                )
            elif stats["nullCount"][column] == stats["numRecords"]:  # all null so far
                stats["minValues"][column] = piece["minValues"][column]
                stats["maxValues"][column] = piece["maxValues"][column]
            stats["nullCount"][column] += nulls
        stats["numRecords"] += rows

    def close(self) -> dict | None:
        """Finish the file; its ``add`` action (None if no file was written)."""
        if self._writer is None:
            return None
        self._writer.close()
        stats = self._stats
        for column in self._unskippable:
            stats["minValues"].pop(column, None)
            stats["maxValues"].pop(column, None)
        return {
            "add": {
                "path": self.relative,
                "partitionValues": {k: str(int(v)) for k, v in self.partition.items()},
                "size": self.fs.get_file_info(self.target).size,
                "modificationTime": int(time.time() * 1000),
                "dataChange": True,
                "stats": json.dumps(stats),
            }
        }


def use_arrow_writer(writer: str, warehouse: str) -> bool:
    """``output.writer``: ``arrow``: tasks write the large tables' Parquet files with pyarrow
    (here) and delta-rs commits them; ``spark``: Spark's Delta writer; ``auto``: arrow where the
    warehouse is a local path (every task sees it) or on S3 (``s3a://``, ``s3://``: pyarrow and
    delta-rs read the AWS environment variables, and delta-rs commits with conditional puts,
    safe with several writers; tests/io/test_object_store_commits.py), spark on other storage
    (ADLS, GCS, HDFS), whose credentials Spark's Hadoop settings carry."""
    if writer not in ("auto", "arrow", "spark"):
        raise ValueError(f"output.writer must be auto, arrow or spark, not {writer!r}")
    return writer == "arrow" or (writer == "auto" and (is_local(warehouse) or is_s3(warehouse)))


def data_files_by_year(
    table_uri: str, version: int | None = None, years: Iterable[int] | None = None
) -> dict[int, list[str]] | None:
    """The Parquet data files of each year of a Delta table (at ``version``, else the latest),
    read from its log by delta-rs: absolute paths for a local table, ``s3://`` URIs for one on
    S3 (the tasks open them with Arrow, as they write them); None where reading the files
    directly would be wrong or impossible: a table that may have deletion vectors or column
    mapping (reader version above 1; ours are created at 1, lib.io.delta) or one on a store
    other than a local path or S3."""
    if is_local(table_uri):
        root = os.path.abspath(arrow_filesystem(table_uri)[1])  # tasks may start elsewhere
    elif is_s3(table_uri):
        root = arrow_uri(table_uri).rstrip("/")
    else:
        return None
    from deltalake import DeltaTable  # the driver only

    table = DeltaTable(root, version=version)
    if table.protocol().min_reader_version > 1:
        return None
    adds = pa.table(table.get_add_actions(flatten=True))
    wanted = None if years is None else {int(y) for y in years}
    files: dict[int, list[str]] = {}
    for path, year in zip(
        adds.column("path").to_pylist(), adds.column("partition.year").to_pylist(), strict=True
    ):
        if wanted is None or int(year) in wanted:
            files.setdefault(int(year), []).append(f"{root}/{unquote(path)}")
    return files


def table_version(table_uri: str) -> int:
    """The table's latest version, read from its log by delta-rs (the driver only)."""
    from deltalake import DeltaTable

    return DeltaTable(arrow_uri(table_uri)).version()


def partition_predicate(replace: Mapping[str, Iterable[int]]) -> str:
    return " AND ".join(
        f"{column} IN ({', '.join(str(v) for v in sorted(set(values)))})"
        for column, values in replace.items()
    )


def commit_files(
    table_uri: str,
    adds: list[dict],
    replace: Mapping[str, Iterable[int]],
    user_metadata: str,
    read_version: int | None = None,
) -> int:
    """One commit: remove the files of the partitions in ``replace`` ({column: values}), add
    ``adds``. Returns the new table version. ``read_version``: the table version the writer
    planned this commit on (default: the latest when committing); a commit by another writer
    since then that changed rows of the replaced partitions raises
    ``lib.io.delta_commits.ConcurrentCommitError`` and commits nothing; a commit that only lost
    the race for its version is made on the next one (``commit_strictly``).

    Committed by delta-rs (``DeltaTable.create_write_transaction``, a public API) from the
    driver: no JVM internals, so it works the same in classic Spark and through Spark Connect.
    The commit is recorded as a WRITE in overwrite mode with its partition predicate, as
    Delta's ``replaceWhere`` records it, and carries the run's ``userMetadata``.
    """
    from deltalake import DeltaTable  # the driver only
    from deltalake.transaction import AddAction, CommitProperties

    planned = DeltaTable(arrow_uri(table_uri), version=read_version)
    partition_by = planned.metadata().partition_columns
    actions = [
        AddAction(
            path=add["path"],
            size=int(add["size"]),
            partition_values=add["partitionValues"],
            modification_time=int(add["modificationTime"]),
            data_change=bool(add["dataChange"]),
            stats=add["stats"],
        )
        for add in (action["add"] for action in adds)
    ]
    filters = [
        (column, "in", sorted({str(int(v)) for v in values})) for column, values in replace.items()
    ]
    parameters = {
        "mode": "Overwrite",
        "partitionBy": json.dumps(partition_by),
        "predicate": partition_predicate(replace),
    }

    def commit(version: int) -> None:
        table = DeltaTable(arrow_uri(table_uri), version=version)
        table.create_write_transaction(
            actions,
            mode="overwrite",
            schema=table.schema(),
            partition_by=partition_by,
            partition_filters=filters,
            commit_properties=CommitProperties(
                custom_metadata={"userMetadata": user_metadata, "operationParameters": parameters},
                max_commit_retries=0,
            ),
        )

    return commit_strictly(table_uri, planned.version(), replace, commit)


def write_rows(
    table_uri: str,
    name: str,
    rows: pa.Table,
    user_metadata: str,
    *,
    replace_where: str | None = None,
    append: bool = False,
) -> None:
    """Small rows held by the driver (run log, code lists, yearly country and product rows)
    into an existing data-dictionary table, in one delta-rs commit: an append, or an overwrite
    of the rows matching ``replace_where`` (all rows without it), as Spark's ``replaceWhere``.

    WHY not Spark's writer for them: a Delta write of a few hundred rows costs Spark 1.5-2 s
    (a job, a commit protocol, statistics) and the first one of a session ~7 s; delta-rs
    commits the same in ~30 ms. The rows are conformed to the data dictionary and checked
    against its NOT NULL columns and CHECK constraints first (``check_constraints``), as Delta's
    writer would; delta-rs checks the constraints again on write.
    """
    from deltalake import CommitProperties, write_deltalake  # the driver only
    from pyspark.sql.pandas.types import to_arrow_schema

    from lib.tables import spark_schema

    schema = to_arrow_schema(spark_schema(name), timezone="UTC")
    conformed = pa.table(
        [rows.column(f.name).cast(f.type) for f in schema], schema=schema.remove_metadata()
    )
    check_constraints(conformed, name, {})
    from deltalake import DeltaTable

    def commit(version: int) -> None:
        write_deltalake(
            DeltaTable(arrow_uri(table_uri), version=version),
            conformed,
            mode="append" if append else "overwrite",
            predicate=None if append else replace_where,
            commit_properties=CommitProperties(
                custom_metadata={"userMetadata": user_metadata}, max_commit_retries=0
            ),
        )

    # An append conflicts with nothing; a replacement with any data change made meanwhile.
    planned = DeltaTable(arrow_uri(table_uri)).version()
    commit_strictly(table_uri, planned, {} if append else None, commit)


def _sql_literal(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"partition values are whole numbers here, not {value!r}")
    return str(value)
