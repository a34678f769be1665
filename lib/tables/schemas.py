"""Spark and Arrow schemas from the data dictionary, and the conforming of a DataFrame to a table.

Built without a SparkContext, so modules can make their schemas at import.

Must not read or write tables: schemas only.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lib.tables.catalogue import TABLES


def conform(df: DataFrame, name: str) -> DataFrame:
    """Select the table's columns in order, cast to their types, attach their comments."""
    table = TABLES[name]
    return df.select(
        *[
            F.col(c.name).cast(c.type).alias(c.name, metadata={"comment": c.comment})
            for c in table.columns
        ]
    )


_SPARK_TYPES = {
    "int": T.IntegerType(),
    "bigint": T.LongType(),
    "double": T.DoubleType(),
    "string": T.StringType(),
    "boolean": T.BooleanType(),
    "timestamp": T.TimestampType(),
}


def spark_type(type_: str) -> T.DataType:
    """The Spark type of a dictionary type string (``int``, ``array<int>``,
    ``map<string,double>``), without a SparkContext: modules build their schemas at import."""
    type_ = type_.replace(" ", "")
    if type_.startswith("array<") and type_.endswith(">"):
        return T.ArrayType(spark_type(type_[len("array<") : -1]))
    if type_.startswith("map<") and type_.endswith(">"):
        key, value = type_[len("map<") : -1].split(",", 1)
        return T.MapType(spark_type(key), spark_type(value))
    return _SPARK_TYPES[type_]


def spark_schema(
    name: str, columns: Sequence[str] | None = None, *, exclude: Sequence[str] = ()
) -> T.StructType:
    """The table's Spark schema with its column comments, or that of some of its columns (in
    the order given): the schemas of the yearly tasks that produce part of a table."""
    by_name = {c.name: c for c in TABLES[name].columns}
    names = [n for n in (columns or by_name) if n not in exclude]
    return T.StructType(
        [
            T.StructField(
                n, spark_type(by_name[n].type), by_name[n].nullable, {"comment": by_name[n].comment}
            )
            for n in names
        ]
    )


# Arrow types of the primitive Spark SQL types, for files written by Arrow (lib.io.delta_arrow).
ARROW_TYPES = {
    "int": pa.int32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "string": pa.string(),
    "boolean": pa.bool_(),
}


def arrow_file_schema(name: str) -> pa.Schema:
    """The columns of the table's data files, as Arrow types: every column but the partition
    columns (Delta keeps those in the log and the file paths, not in the files)."""
    table = TABLES[name]
    return pa.schema(
        [
            pa.field(c.name, ARROW_TYPES[c.type], c.nullable)
            for c in table.columns
            if c.name not in table.partition_by
        ]
    )
