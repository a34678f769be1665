"""Reading any place x activity table: a long table of values by place, activity and year.

Employment by region and industry (ONS BRES, Eurostat SBS, US County Business Patterns),
historical trade by country and SITC product, ...: one row per (year, place, activity) with

    place, activity, year, value                 required
    place_name, activity_name, parent_activity   optional (names; a coarser activity code that
                                                 groups activities, e.g. a SIC section)

as CSV (optionally gzipped; header row), Parquet (file or folder) or a Delta table (a folder
with ``_delta_log``). Codes are read as text, so leading zeros stay ("0011").

Row faults never stop the run: each bad row goes to the quarantine with its file, physical
line number (CSV; the row number for Parquet and Delta) and reason, and rows read = rows
accepted + rows quarantined. Faults: a missing place, activity or year; a year that is not an
integer in 1962-2100 (the tables' range); a value that is missing, not a number or negative; a
second row for the same (year, place, activity) (both are quarantined: which one is right is
not ours to guess); a CSV line with the wrong number of fields. File-level faults (missing
file, unreadable format, a required column absent) raise ``PlaceActivityFormatError`` naming
the file, before anything is written.

No step holds the table in one Python process: the driver checks only the header, footers
or log (``check_source``, before Spark starts); Spark tasks read the rows (a CSV file streamed
in blocks by ``lib.io.place_activity_csv``, Parquet and Delta by Spark's readers), check them
a batch at a time and find duplicates by a window; the checked rows stay in Spark. Quarantine
rows name the file they come from (a folder's part file; the path given for a single file).

Must not collect the rows on the driver nor compute anything but the checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lib.io.place_activity_csv import csv_batches, header

REQUIRED = ("place", "activity", "year", "value")
OPTIONAL = ("place_name", "activity_name", "parent_activity")
MIN_YEAR, MAX_YEAR = 1962, 2100  # lib.tables.YEAR_RANGE
TEXT = (*REQUIRED, *OPTIONAL)
# What the reading tasks give the checks: every column as text, a CSV line's fault.
READ = T.StructType(
    [
        T.StructField("source_file", T.StringType()),
        T.StructField("line_number", T.LongType()),
        *[T.StructField(c, T.StringType()) for c in TEXT],
        T.StructField("fault", T.StringType()),
        T.StructField("raw_line", T.StringType()),
    ]
)
READ_ARROW = [
    ("source_file", pa.string()),
    ("line_number", pa.int64()),
    *[(c, pa.string()) for c in TEXT],
    ("fault", pa.string()),
    ("raw_line", pa.string()),
]
CHECKED_ARROW = [
    *READ_ARROW[:-2],
    ("year_int", pa.int32()),
    ("value_num", pa.float64()),
    ("reason", pa.string()),
    ("raw_line", pa.string()),
]
CHECKED = T.StructType(
    [
        *READ.fields[:2],
        *[T.StructField(c, T.StringType()) for c in TEXT],  # stripped, None where empty
        T.StructField("year_int", T.IntegerType()),
        T.StructField("value_num", T.DoubleType()),
        T.StructField("reason", T.StringType()),
        T.StructField("raw_line", T.StringType()),
    ]
)


class PlaceActivityFormatError(ValueError):
    """A file-level problem of a place x activity table (named in the message)."""


@dataclass(frozen=True)
class PlaceActivityTable:
    """The checked rows of a table as Spark DataFrames (persisted; ``release`` frees them):
    ``rows`` the accepted ones (year, place, activity, value, the optional columns, the
    missing ones as nulls, and source_file / line_number), ``quarantine`` the others
    (source_file, line_number, reason, raw_line)."""

    source: str
    checked: DataFrame

    @property
    def rows(self) -> DataFrame:
        return self.checked.where(F.col("reason").isNull()).select(
            F.col("year_int").alias("year"),
            "place",
            "activity",
            F.col("value_num").alias("value"),
            *OPTIONAL,
            "source_file",
            "line_number",
        )

    @property
    def quarantine(self) -> DataFrame:
        return self.checked.where(F.col("reason").isNotNull()).select(
            "source_file", "line_number", "reason", "raw_line"
        )

    @cached_property
    def counts(self) -> dict[str, int]:
        got = self.checked.agg(
            F.count(F.lit(1)).alias("read"), F.count("reason").alias("rejected")
        ).first()
        read, rejected = int(got["read"]), int(got["rejected"])
        return {
            "rows_read": read,
            "rows_accepted": read - rejected,
            "rows_quarantined": rejected,
        }

    def release(self) -> None:
        self.checked.unpersist()


def source_format(path: str) -> str:
    """csv, parquet or delta, from the path."""
    local = Path(path)
    if (local / "_delta_log").is_dir():
        return "delta"
    name = local.name.lower()
    if name.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
        return "csv"
    if name.endswith((".parquet", ".pq")) or local.is_dir():
        return "parquet"
    raise PlaceActivityFormatError(
        f"{path}: not a CSV (.csv, .csv.gz), Parquet (.parquet or a folder of them) or Delta "
        "table (a folder with _delta_log)"
    )


def check_source(path: str) -> tuple[str, list[str]]:
    """The table's format and columns, read from its header, footers or log only (no rows):
    every file-level fault raises ``PlaceActivityFormatError`` here, before Spark starts."""
    if "://" not in path and not Path(path).exists():
        raise PlaceActivityFormatError(f"{path}: no such file or folder")
    kind = source_format(path)
    try:
        if kind == "csv":
            names = header(path)
        elif kind == "parquet":
            names = list(pq.ParquetDataset(path).schema.names)
        else:
            from deltalake import DeltaTable

            names = [f.name for f in DeltaTable(path).schema().fields]
    except (pa.ArrowInvalid, OSError) as exc:
        raise PlaceActivityFormatError(f"{path}: cannot be read as {kind}: {exc}") from exc
    except Exception as exc:  # deltalake's own errors (no such table, unreadable log)
        if kind != "delta":
            raise
        raise PlaceActivityFormatError(f"{path}: cannot be read as {kind}: {exc}") from exc
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise PlaceActivityFormatError(
            f"{path}: required column(s) {', '.join(missing)} missing; the table has "
            f"{', '.join(names) or 'no columns'} (expected at least "
            f"{', '.join(REQUIRED)}; optional {', '.join(OPTIONAL)})"
        )
    return kind, names


def read_place_activity(spark: SparkSession, path: str) -> PlaceActivityTable:
    """Read and check a place x activity table (see the module doc) in Spark tasks: a CSV file
    streamed by one task, Parquet and Delta by Spark's readers. The checked rows are persisted
    (by Spark, not in Python) and counted here, so that a fault found while reading the rows
    raises ``PlaceActivityFormatError`` before anything is written."""
    kind, names = check_source(path)
    present = [c for c in TEXT if c in names]
    if kind == "csv":
        read = _csv_rows(spark, path, names)
    else:
        read = _columnar_rows(spark, path, kind, present)
    checked = _without_duplicates(read.mapInArrow(_checks(present), CHECKED), present)
    table = PlaceActivityTable(path, checked.persist(StorageLevel.MEMORY_AND_DISK))
    try:
        table.counts  # noqa: B018 (reads every row once: the faults of the rows show here)
    except PlaceActivityFormatError:
        raise
    except Exception as exc:
        table.release()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PlaceActivityFormatError(f"{path}: cannot be read as {kind}: {first}") from exc
    return table


def _csv_rows(spark: SparkSession, path: str, names: list[str]) -> DataFrame:
    """One task streams the file (``lib.io.place_activity_csv``)."""

    def read(batches):
        for _ in batches:
            for batch in csv_batches(path, names):
                n = batch.num_rows
                columns = {
                    "source_file": pa.array([path] * n, pa.string()),
                    "line_number": batch.column("line_number"),
                }
                for c in TEXT:
                    present = c in batch.schema.names
                    columns[c] = batch.column(c) if present else pa.nulls(n, pa.string())
                columns["fault"] = batch.column("fault")
                columns["raw_line"] = batch.column("raw_line")
                yield pa.RecordBatch.from_pydict(columns, schema=pa.schema(READ_ARROW))

    return spark.range(1, numPartitions=1).mapInArrow(read, READ)


def _columnar_rows(spark: SparkSession, path: str, kind: str, present: list[str]) -> DataFrame:
    """Spark's Parquet or Delta reader; the row number within each file (Parquet: the file's
    row index; Delta, which has none: the rows' order within the file as read)."""
    reader = spark.read.format("delta") if kind == "delta" else spark.read.format("parquet")
    df = reader.load(path)
    meta = F.col("_metadata.file_path")
    file = meta if "://" in path else F.regexp_replace(meta, "^file:(//)?", "")
    if kind == "parquet":
        number = F.col("_metadata.row_index") + 1
        df = df.select("*", file.alias("source_file"), number.alias("line_number"))
    else:
        df = df.select("*", file.alias("source_file"), F.monotonically_increasing_id().alias("_o"))
        order = Window.partitionBy("source_file").orderBy("_o")
        df = df.withColumn("line_number", F.row_number().over(order).cast("long"))
    if Path(path).is_file():
        df = df.withColumn("source_file", F.lit(path))
    return df.select(
        "source_file",
        "line_number",
        *[
            F.col(c).cast("string").alias(c)
            if c in present
            else F.lit(None).cast("string").alias(c)
            for c in TEXT
        ],
        F.lit(None).cast("string").alias("fault"),
        F.lit(None).cast("string").alias("raw_line"),
    )


def _checks(present: list[str]):
    """The row checks of a batch (every fault but duplicates), the first reason of each row."""

    def check(batches):
        for batch in batches:
            yield _checked_batch(batch.to_pandas(), present)

    return check


def _checked_batch(frame: pd.DataFrame, present: list[str]) -> pa.RecordBatch:
    for c in TEXT:
        text = frame[c].astype(object).str.strip()
        frame[c] = text.where(text.notna() & (text != ""), None)
    reasons = frame["fault"].astype(object).copy()

    def flag(mask: pd.Series, reason) -> None:
        """Record the first reason of each row."""
        new = mask & reasons.isna()
        if isinstance(reason, pd.Series):
            reasons[new] = reason[new]
        else:
            reasons[new] = reason

    for column in ("place", "activity", "year"):
        flag(frame[column].isna(), f"{column} missing")
    year = pd.to_numeric(frame["year"], errors="coerce")
    whole = year.notna() & (year == np.floor(year))
    flag(~whole, "year not an integer: " + frame["year"].fillna(""))
    flag(whole & ((year < MIN_YEAR) | (year > MAX_YEAR)), f"year outside {MIN_YEAR}-{MAX_YEAR}")
    flag(frame["value"].isna(), "value missing")
    value = pd.to_numeric(frame["value"], errors="coerce")
    flag(value.isna() | ~np.isfinite(value), "value not a number: " + frame["value"].fillna(""))
    flag(value < 0, "value negative")
    rejected = reasons.notna() & frame["raw_line"].isna()
    raw = frame["raw_line"].astype(object).copy()
    if rejected.any():
        fields = frame.loc[rejected, present].fillna("").astype(str)
        raw[rejected] = fields.agg(",".join, axis=1)
    ok = reasons.isna()
    columns = {
        "source_file": pa.array(frame["source_file"], pa.string()),
        "line_number": pa.array(frame["line_number"], pa.int64()),
        **{c: pa.array(frame[c], pa.string()) for c in TEXT},
        "year_int": pa.array(year.where(ok).astype("Int32"), pa.int32()),
        "value_num": pa.array(value.where(ok), pa.float64()),
        "reason": pa.array(reasons, pa.string()),
        "raw_line": pa.array(raw, pa.string()),
    }
    return pa.RecordBatch.from_pydict(columns, schema=pa.schema(CHECKED_ARROW))


def _without_duplicates(checked: DataFrame, present: list[str]) -> DataFrame:
    """Both rows of a duplicated (year, place, activity) go to the quarantine (which one is
    right is not ours to guess), naming the first."""
    key = Window.partitionBy("year_int", "place", "activity")
    candidate = F.col("reason").isNull()
    first = F.min(F.struct("source_file", "line_number")).over(key)
    twins = checked.where(candidate).select(
        "*", F.count(F.lit(1)).over(key).alias("_n"), first.alias("_first")
    )
    message = F.concat(
        F.lit("duplicate (year, place, activity), first at line "),
        F.col("_first.line_number").cast("string"),
        F.when(
            F.col("_first.source_file") != F.col("source_file"),
            F.concat(F.lit(" of "), F.col("_first.source_file")),
        ).otherwise(F.lit("")),
    )
    raw = F.concat_ws(",", *[F.coalesce(F.col(c), F.lit("")) for c in present])
    dup = F.col("_n") > 1
    accepted = twins.select(
        *[c for c in CHECKED.fieldNames() if c not in ("reason", "raw_line")],
        F.when(dup, message).alias("reason"),
        F.when(dup, raw).alias("raw_line"),
    )
    return checked.where(~candidate).unionByName(accepted)
