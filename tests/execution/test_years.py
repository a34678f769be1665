"""lib.execution.years: one partition per year, and the conversion of a year's frames to Arrow."""

from __future__ import annotations

import pandas as pd
import pytest
from pyspark.sql import types as T

from lib.execution.years import conformed_frame, one_partition_per_year


def _years_of_partition(frames):
    """One row per partition (empty ones too): the years it holds."""
    years = set()
    for frame in frames:
        years |= set(frame["year"].tolist())
    yield pd.DataFrame({"years": [sorted(years)]})


@pytest.mark.parametrize("n_years", [1, 7, 30])
def test_one_partition_per_year_whatever_the_shuffle_settings(spark, n_years):
    """Exactly one partition per year, each holding one year, also with adaptive execution on
    and fewer shuffle partitions than years (where repartition("year") leaves tasks empty or
    merges years)."""
    from lib.io.delta import session_conf

    years = list(range(1995, 1995 + n_years))
    rows = spark.range(0, 40 * n_years).selectExpr(f"CAST(1995 + id % {n_years} AS INT) AS year")
    conf = {"spark.sql.adaptive.enabled": "true", "spark.sql.shuffle.partitions": "3"}
    with session_conf(spark, conf):
        per_partition = (
            one_partition_per_year(rows, years)
            .mapInPandas(_years_of_partition, "years array<int>")
            .collect()
        )
    assert len(per_partition) == n_years  # one row per partition, empty ones included
    assert sorted(tuple(r["years"]) for r in per_partition) == [(y,) for y in years]


def test_a_string_column_missing_from_a_year_converts_to_arrow_nulls():
    """A table absent from a year's frames leaves its string columns all NaN (float64); they
    must reach Arrow as a plain null string array (pyarrow makes a chunked one of float NaN,
    which pyspark's conversion refuses)."""
    import pyarrow as pa

    frame = pd.DataFrame({"year": [2001], "country_code": [4]})
    schema = T.StructType(
        [
            T.StructField("year", T.IntegerType()),
            T.StructField("country_code", T.IntegerType()),
            T.StructField("label", T.StringType()),
        ]
    )
    out = conformed_frame(frame, schema)
    array = pa.Array.from_pandas(out["label"], type=pa.string())
    assert isinstance(array, pa.StringArray) and array.null_count == 1
    assert str(out["year"].dtype) == "Int32"
