"""Placing years on Spark tasks: one partition per year, and the per-year map function.

The yearly core (``lib.measures.yearly``) computes one year on a dense matrix; this module is
the Spark side of that choice: it spreads rows over exactly one partition per year and runs a
numpy function on each year of a partition. It knows nothing of the indicators themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_schema

TABLE_COLUMN = "_table"


def _pandas_dtype(data_type: T.DataType) -> str | None:
    if isinstance(data_type, T.IntegerType):
        return "Int32"
    if isinstance(data_type, T.LongType):
        return "Int64"
    if isinstance(data_type, T.DoubleType):
        return "float64"
    if isinstance(data_type, T.StringType):
        # WHY: a column missing from a year's frames is all-NaN float64, which pyarrow turns
        # into a chunked array for a string field (the Arrow conversion then fails).
        return "object"
    return None


def tagged_schema(schemas: Mapping[str, T.StructType]) -> T.StructType:
    """One schema for several tables' rows: a ``_table`` tag and the union of their columns
    (nullable). WHY: a yearly task yields several tables (country, product, ...) and a Spark
    map function has a single output schema."""
    fields: dict[str, T.StructField] = {}
    for name, schema in schemas.items():
        for f in schema.fields:
            known = fields.get(f.name)
            if known is not None and known.dataType != f.dataType:
                raise ValueError(f"column {f.name!r} of table {name!r} changes type between tables")
            fields[f.name] = T.StructField(f.name, f.dataType, True)
    return T.StructType([T.StructField(TABLE_COLUMN, T.StringType(), False), *fields.values()])


def conformed_frame(frame: pd.DataFrame, schema: T.StructType) -> pd.DataFrame:
    """The frame with exactly the schema's columns (missing ones null), integer columns
    nullable (Int32 / Int64), string columns that are all missing (float NaN) as objects."""
    out = frame.reindex(columns=schema.fieldNames())
    for f in schema.fields:
        dtype = _pandas_dtype(f.dataType)
        if dtype == "object":
            if out[f.name].dtype.kind == "f":  # Arrow-backed strings stay as they are
                out[f.name] = out[f.name].astype(object)
        elif dtype is not None and str(out[f.name].dtype) != dtype:
            out[f.name] = out[f.name].astype(dtype)
    return out


def one_partition_per_year(rows: DataFrame, years: list[int], column: str = "year") -> DataFrame:
    """``rows`` (with a ``year`` column, or another whole-number ``column``) spread over exactly
    ``len(years)`` partitions, each holding the rows of one year (one value).

    WHY: ``repartition("year")`` hashes years into ``spark.sql.shuffle.partitions`` buckets
    (several years to a task, other cores idle) and adaptive execution coalesces small ones
    (30 years came out as ONE partition). ``repartition(n, key)`` with an explicit count is
    never coalesced, and puts a row in partition pmod(hash(key), n); so each year gets a key
    whose hash lands in its own partition, found by hashing candidate keys with the same SQL
    ``hash`` function (Murmur3, seed 42) Spark's hash partitioning uses.
    """
    years = sorted({int(y) for y in years})
    n = len(years)
    if n == 0:
        return rows
    spark = rows.sparkSession
    candidates = spark.range(0, 64 * n).select(
        F.col("id").cast("int").alias("key"),
        F.expr(f"pmod(hash(CAST(id AS INT)), {n})").alias("partition"),
    )
    first_key = {
        int(r["partition"]): int(r["key"])
        for r in candidates.groupBy("partition").agg(F.min("key").alias("key")).collect()
    }
    if len(first_key) < n:  # (1 - 1/n)^(64 n) ~ e^-64: never in practice
        raise RuntimeError(f"no partition key found for {n - len(first_key)} of {n} years")
    keys = F.create_map(*[F.lit(v) for i, y in enumerate(years) for v in (y, first_key[i])])
    return (
        rows.withColumn("_partition_key", keys[F.col(column)])
        .repartition(n, "_partition_key")
        .drop("_partition_key")
    )


def each_year_of_partition(
    compute: Callable[[int, pd.DataFrame], Iterator[pa.RecordBatch]],
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """A ``mapInArrow`` function running ``compute(year, rows)`` for each year of its
    partition (one year a partition after ``one_partition_per_year``)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rows = pa.Table.from_batches(list(batches)).to_pandas()
        if not len(rows):
            return
        for year, group in rows.groupby("year", sort=True):
            yield from compute(int(year), group.reset_index(drop=True))

    return run


def tagged_batches(
    outputs: Mapping[str, pd.DataFrame], schema: T.StructType
) -> Iterator[pa.RecordBatch]:
    """The frames of several tables (name -> rows) as record batches of one tagged schema
    (``tagged_schema``): what a task yielding several tables returns."""
    arrow = to_arrow_schema(schema)
    for name, frame in outputs.items():
        if len(frame):
            tagged = conformed_frame(frame.assign(**{TABLE_COLUMN: name}), schema)
            yield from pa.Table.from_pandas(tagged, schema=arrow, preserve_index=False).to_batches()
