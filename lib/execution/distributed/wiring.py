"""The distributed path plugged into the indicator stage (``lib.execution.indicators``).

``announce`` says each year's path (``choice``) on the progress line; ``distributed_tasks``
runs ``tables.distributed_tables`` on the years sent there and returns its rows in the shapes
of the in-task yearly tasks' output (the small tables as Arrow with the tables' schemas, the
large ones as DataFrames cast to them), so that the stage writes both alike.

Must not hold a formula, read the config, or collect more than the small per-place and
per-activity rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.pandas.types import to_arrow_schema

from lib.execution.distributed.choice import DISTRIBUTED, IN_TASK, MatrixShape, choices, describe
from lib.execution.distributed.tables import distributed_tables
from lib.execution.years import conformed_frame
from lib.io import delta
from lib.run import progress
from lib.tables import spark_schema

COUNTRY_SUMMARY_SCHEMA = spark_schema("country_year", exclude=["iso3", "country_name"])
PRODUCT_SUMMARY_SCHEMA = spark_schema("product_year", exclude=["description"])
TRADED_SCHEMA = spark_schema("country_year", ["year", "country_code"])
CONVERGENCE_SCHEMA = spark_schema("fitness_convergence")
GRID_SCHEMA = spark_schema("country_product_year")
PROXIMITY_SCHEMA = spark_schema("product_proximity")


def announce(mode: str, shapes: dict[int, MatrixShape]) -> dict[int, str]:
    """Each year's path (``lib.execution.distributed.choice``), said on the progress line: one
    line for the in-task years, one a year for the distributed ones."""
    paths = choices(mode, shapes)
    in_task = [y for y in sorted(paths) if paths[y] == IN_TASK]
    if in_task:
        largest = max(in_task, key=lambda y: shapes[y].in_task_bytes)
        progress.note(
            f"matrix ({mode}): {len(in_task)} year(s) in-task; largest "
            + describe(largest, IN_TASK, shapes[largest])
        )
    for y in sorted(paths):
        if paths[y] == DISTRIBUTED:
            progress.note(f"matrix ({mode}): " + describe(y, DISTRIBUTED, shapes[y]))
    return paths


def distributed_tasks(exports, traded, settings, years, partitions):
    """The distributed path's rows (``distributed_tables``) as the yearly tasks' output:
    (small Arrow tables by name, no files, large DataFrames by table, cached frames)."""
    spark = exports.sparkSession
    attributes = None
    if settings.attributes is not None:
        rows = settings.attributes.rows[["year", "country_code", "population", "gdp_per_capita"]]
        attributes = spark.createDataFrame(
            rows.rename(columns={"country_code": "place"}).astype(
                {"year": "int32", "place": "int64", "population": float, "gdp_per_capita": float}
            ),
            "year int, place long, population double, gdp_per_capita double",
        )
    out = distributed_tables(spark, exports, settings, partitions, attributes)
    if out.pass_seconds:  # the plan must not grow with the steps: step 2 vs the last one
        s = out.pass_seconds
        progress.note(
            f"distributed Fitness: {len(s)} passes in {sum(s):.1f} s; step 2 "
            f"{s[min(1, len(s) - 1)]:.2f} s, last step {s[-1]:.2f} s, median {np.median(s):.2f} s"
        )
    traded_rows = pd.DataFrame(
        {
            "year": np.concatenate(
                [np.full(len(traded.get(y, [])), y, np.int32) for y in years] or [[]]
            ).astype(np.int32),
            "country_code": np.concatenate(
                [np.asarray(traded.get(y, []), np.int32) for y in years] or [[]]
            ).astype(np.int32),
        }
    )
    small = {
        "country": _arrow(out.country, COUNTRY_SUMMARY_SCHEMA),
        "product": _arrow(out.product, PRODUCT_SUMMARY_SCHEMA),
        "convergence": _arrow(out.convergence, CONVERGENCE_SCHEMA),
        "traded": _arrow(traded_rows, TRADED_SCHEMA),
    }
    large = {delta.COUNTRY_PRODUCT_YEAR: _cast(out.grid, GRID_SCHEMA)}
    if out.proximity is not None:
        large[delta.PRODUCT_PROXIMITY] = _cast(out.proximity, PROXIMITY_SCHEMA)
    return small, {}, large, out.cached


def split_tasks(exports, traded, settings, years, paths, partitions, in_task_tasks):
    """The in-task years by ``in_task_tasks`` (``lib.execution.indicators``' yearly tasks), the
    distributed ones by ``distributed_tasks``; their rows put together."""
    in_task = [y for y in years if paths.get(y, IN_TASK) == IN_TASK]
    distributed = [y for y in years if paths.get(y) == DISTRIBUTED]
    parts = []
    if in_task:
        rows = exports.where(F.col("year").isin(in_task)) if distributed else exports
        parts.append(in_task_tasks(rows, traded, settings, in_task))
    if distributed:
        parts.append(
            distributed_tasks(
                exports.where(F.col("year").isin(distributed)),
                traded,
                settings,
                distributed,
                partitions,
            )
        )
    if len(parts) == 1:
        return parts[0]
    (small_a, _, large_a, cached_a), (small_b, _, large_b, cached_b) = parts
    small = {name: pa.concat_tables([small_a[name], small_b[name]]) for name in small_a}
    large = {name: large_a[name].unionByName(large_b[name]) for name in large_a if name in large_b}
    return small, {}, large, cached_a + cached_b


def _arrow(frame: pd.DataFrame, schema: T.StructType) -> pa.Table:
    arrow = to_arrow_schema(schema)
    return pa.Table.from_pandas(conformed_frame(frame, schema), schema=arrow, preserve_index=False)


def _cast(df: DataFrame, schema: T.StructType) -> DataFrame:
    return df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])
