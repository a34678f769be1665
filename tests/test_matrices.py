"""lib.matrices: long rows <-> dense M, masks, output helpers, and the per-year Spark plumbing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import types as T

from lib.matrices import (
    active_masks,
    descending_rank,
    expand,
    expand_matrix,
    frame_to_spark,
    grid_frame,
    largest_component,
    long_rows,
    per_year_tables,
    safe_log10,
    year_matrix,
)

# Python workers need the venv's pandas/numpy (lib.session does not set this outside spark-submit).


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
    back = long_rows(ym)
    assert len(back) == int(M.sum())
    np.testing.assert_array_equal(year_matrix(back).M, M[np.ix_(M.sum(1) > 0, M.sum(0) > 0)])
    assert len(long_rows(ym, keep_zeros=True)) == M.size


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

    ym = year_matrix(_rows())
    frame = grid_frame(ym, 2001, value=ym.M * 2)
    assert len(frame) == 9 and frame["year"].eq(2001).all()
    assert frame.loc[(frame.country_code == 20) & (frame["product"] == "b"), "value"].item() == 2.0

    ranks = descending_rank(np.array([0.5, np.nan, 2.0, 0.5]))
    assert ranks.tolist() == [2, pd.NA, 1, 2]  # ties share the best rank; NaN -> null
    logs = safe_log10(np.array([100.0, 0.0, np.nan]))
    assert logs[0] == 2.0 and np.isnan(logs[1]) and np.isnan(logs[2])


def test_per_year_tables_split_once_per_year_and_nan_is_null(spark):
    rows = spark.createDataFrame(
        [(2000, 1, "a", 1), (2000, 2, "b", 0), (2001, 1, "a", 1)],
        "year int, country_code int, product string, mcp int",
    )
    calls = spark.sparkContext.accumulator(0)
    schemas = {
        "left": T.StructType(
            [T.StructField("year", T.IntegerType()), T.StructField("value", T.DoubleType())]
        ),
        "right": T.StructType(
            [T.StructField("year", T.IntegerType()), T.StructField("label", T.StringType())]
        ),
    }

    def compute(year, pdf):
        calls.add(1)
        return {
            "left": pd.DataFrame({"year": [year, year], "value": [np.nan, float(len(pdf))]}),
            "right": pd.DataFrame({"year": [year], "label": [f"y{year}"]}),
        }

    tables = per_year_tables(rows, compute, schemas)
    left = sorted(tables["left"].collect(), key=lambda r: (r.year, r.value is not None))
    right = sorted(tables["right"].collect())
    assert [(r.year, r.value) for r in left] == [
        (2000, None),
        (2000, 2.0),
        (2001, None),
        (2001, 1.0),
    ]
    assert [tuple(r) for r in right] == [(2000, "y2000"), (2001, "y2001")]
    assert calls.value == 2  # one call per year, shared by both tables (local checkpoint)

    frame = pd.DataFrame({"year": [1], "value": [np.nan]})
    assert frame_to_spark(spark, frame, schemas["left"]).collect()[0].value is None


def test_a_string_column_missing_from_a_year_converts_to_arrow_nulls():
    """A table absent from a year's frames leaves its string columns all NaN (float64); they
    must reach Arrow as a plain null string array (pyarrow makes a chunked one of float NaN,
    which pyspark's conversion refuses)."""
    import pyarrow as pa

    from lib.matrices import _conformed

    frame = pd.DataFrame({"year": [2001], "country_code": [4]})
    out = _conformed(frame, ["year", "country_code", "execution"], {"execution": "object"})
    array = pa.Array.from_pandas(out["execution"], type=pa.string())
    assert isinstance(array, pa.StringArray) and array.null_count == 1
