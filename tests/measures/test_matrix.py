"""lib.measures.matrix: long rows <-> dense M, masks, output helpers, and the per-year Spark plumbing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import types as T

from lib.measures.matrix import (
    active_masks,
    conformed_frame,
    descending_rank,
    expand,
    expand_matrix,
    largest_component,
    one_partition_per_year,
    safe_log10,
    year_matrix,
)

# Python workers need the venv's pandas/numpy (lib.run.session does not set this outside spark-submit).


def _rows() -> pd.DataFrame:
    # Unsorted on purpose; country 7 has exports but no M = 1, product "c" has no M = 1.
    return pd.DataFrame(
        {
            "country_code": [20, 4, 4, 7, 20, 7],
            "product": ["b", "a", "b", "c", "c", "a"],
            "mcp": [1, 1, 0, 0, 0, 0],
        }
    )


def test_year_matrix_layout_and_masks():
    ym = year_matrix(_rows())
    assert ym.countries.tolist() == [4, 7, 20]
    assert ym.products.tolist() == ["a", "b", "c"]
    expected = np.array([[1, 0, 0], [0, 0, 0], [0, 1, 0]], dtype=float)
    np.testing.assert_array_equal(ym.M, expected)  # exact: 0/1 values
    assert ym.diversity.tolist() == [1, 0, 1]
    assert ym.ubiquity.tolist() == [1, 1, 0]
    assert ym.active_countries.tolist() == [True, False, True]
    assert ym.active_products.tolist() == [True, True, False]
    ac, ap = active_masks(ym.M)
    assert (
        ac.tolist() == ym.active_countries.tolist() and ap.tolist() == ym.active_products.tolist()
    )


def test_largest_component():
    M = np.zeros((6, 6))
    M[[0, 0, 2, 2, 4], [0, 1, 1, 3, 3]] = 1  # countries 0, 2, 4 / products 0, 1, 3: connected
    M[[1, 5], [2, 2]] = 1  # countries 1, 5 share product 2: a second, smaller component
    # country 3 and products 4, 5 are inactive
    countries, products = largest_component(M)
    assert countries.tolist() == [True, False, True, False, True, False]
    assert products.tolist() == [True, True, False, True, False, False]
    none_c, none_p = largest_component(np.zeros((2, 3)))
    assert not none_c.any() and not none_p.any()


def test_round_trip_and_absent_pairs():
    rng = np.random.default_rng(1)
    M = (rng.random((6, 9)) < 0.3).astype(float)
    M[2] = 0  # empty row
    M[:, 4] = 0  # empty column
    ci, pi = np.nonzero(np.ones_like(M))
    rows = pd.DataFrame(
        {"country_code": ci * 3 + 1, "product": [f"{p:04d}" for p in pi], "mcp": M[ci, pi]}
    )
    ym = year_matrix(rows.sample(frac=1.0, random_state=0))  # order must not matter
    np.testing.assert_array_equal(ym.M, M)  # exact
    assert ym.countries.tolist() == sorted(set(ci * 3 + 1))


def test_duplicate_pair_is_rejected():
    rows = pd.DataFrame({"country_code": [1, 1], "product": ["a", "a"], "mcp": [1, 1]})
    with pytest.raises(ValueError, match="duplicated"):
        year_matrix(rows)


def test_expand_grid_rank_log():
    mask = np.array([True, False, True])
    out = expand(np.array([2.0, 3.0]), mask)
    assert out[0] == 2.0 and np.isnan(out[1]) and out[2] == 3.0
    full = expand_matrix(np.array([[1.0], [2.0]]), mask, np.array([False, True]))
    assert np.isnan(full[:, 0]).all() and full[0, 1] == 1.0 and np.isnan(full[1, 1])

    ranks = descending_rank(np.array([0.5, np.nan, 2.0, 0.5]))
    assert ranks.tolist() == [2, pd.NA, 1, 2]  # ties share the best rank; NaN -> null
    logs = safe_log10(np.array([100.0, 0.0, np.nan]))
    assert logs[0] == 2.0 and np.isnan(logs[1]) and np.isnan(logs[2])


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
