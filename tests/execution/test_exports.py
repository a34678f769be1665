"""Flows -> exports: product level, erratic items, unspecified codes, size thresholds."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.execution.exports import exports_for_indicators, year_exports_from_files
from lib.measures.yearly import year_presence
from lib.run.config import load_config
from lib.run.settings import product_selection, year_settings

FLOWS = "year int, exporter int, importer int, product string, value double"
ROWS = [
    (2001, 251, 842, "847130", 10.0),
    (2001, 251, 4, "847130", 5.0),  # same exporter and HS6, another importer: summed
    (2001, 251, 842, "847150", 1.0),  # same HS4 8471
    (2001, 251, 842, "710813", 100.0),  # chapter 71: erratic
    (2001, 251, 842, "970110", 50.0),  # chapter 97: erratic
    (2001, 251, 842, "9999AA", 7.0),  # unspecified
    (2001, 842, 251, "010111", 3.0),
    (2002, 842, 251, "010111", 4.0),
]


def exports(spark, *overrides):
    """(all exports, those the yearly core keeps after the thresholds), as dicts."""
    config = load_config(overrides=list(overrides))
    rows = exports_for_indicators(
        spark.createDataFrame(ROWS, FLOWS), product_selection(config)
    ).toPandas()
    all_exports = {(r.year, r.country_code, r.product): r.export_value for r in rows.itertuples()}
    settings = year_settings(config)
    kept = {}
    for year, group in rows.groupby("year"):
        yp = year_presence(group, settings)
        countries, products = yp.codes
        for c, p in zip(*yp.X.nonzero(), strict=True):
            kept[(year, int(countries[c]), products[p])] = float(yp.X[c, p])
    return all_exports, kept


def test_default_hs4_without_erratic_items(spark):
    all_exports, kept = exports(spark)
    assert all_exports == {
        (2001, 251, "8471"): 16.0,
        (2001, 842, "0101"): 3.0,
        (2002, 842, "0101"): 4.0,
    }
    assert kept == all_exports


def test_levels_and_erratic_switch(spark):
    hs6, _ = exports(spark, "products.level=hs6", "products.exclude_erratic=false")
    assert hs6[(2001, 251, "847130")] == 15.0
    assert hs6[(2001, 251, "710813")] == 100.0
    assert (2001, 251, "9999AA") not in hs6  # unspecified codes are a separate switch
    hs2, _ = exports(spark, "products.level=hs2", "products.exclude_unspecified=false")
    assert hs2[(2001, 251, "84")] == 16.0 and hs2[(2001, 251, "99")] == 7.0
    assert (2001, 251, "71") not in hs2


def test_thresholds_drop_small_countries_and_products(spark):
    all_exports, kept = exports(spark, "countries.min_export_value=10.0")
    assert (2001, 842, "0101") in all_exports
    assert set(kept) == {(2001, 251, "8471")}
    _, kept = exports(spark, "products.min_world_export=3.5")
    assert set(kept) == {(2001, 251, "8471"), (2002, 842, "0101")}


@pytest.mark.parametrize(
    "overrides",
    [
        (),
        ("products.level=hs6", "products.exclude_erratic=false"),
        ("products.level=hs2", "products.exclude_unspecified=false"),
    ],
)
def test_exports_from_the_flows_files_equal_spark(spark, tmp_path, overrides):
    """The DuckDB reading of one year's Parquet files (the arrow path of lib.execution.indicators) gives
    Spark's exports, and every country that exported or imported (zero-value flows too)."""
    config = load_config(overrides=list(overrides))
    spark_exports, _ = exports(spark, *overrides)
    rows = [*ROWS, (2001, 36, 842, "010111", 0.0)]  # 36 trades, exports nothing positive
    frame = pd.DataFrame(rows, columns=["year", "exporter", "importer", "product", "value"])
    files = []
    for i, part in enumerate((frame.iloc[:4], frame.iloc[4:])):  # a year may have several files
        part = part[part["year"] == 2001].drop(columns="year")
        files.append(str(tmp_path / f"part-{i}.parquet"))
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), files[-1])
    products = config.products
    chapters = products.erratic_chapters if products.exclude_erratic else ()
    got, traded = year_exports_from_files(
        files, products.level, chapters, products.exclude_unspecified
    )
    expected = {(c, p): v for (y, c, p), v in spark_exports.items() if y == 2001}
    assert {
        (r["country_code"], r["product"]): r["export_value"] for r in got.to_pylist()
    } == expected
    assert sorted(traded.to_pylist()) == [4, 36, 251, 842]
