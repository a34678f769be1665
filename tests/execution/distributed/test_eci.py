"""Distributed ECI / PCI equal the in-task ones whatever the partitioning of M's ones.

The place kernels of ``lib.execution.distributed.eci`` reduce each place's ones within one
task. Here the ones reach ``distributed_eci`` hashed by activity, so that every place is split
over several tasks (the partitioning a caller's plan may leave, as a groupBy presence did):
each place must still get one row, and ECI, mean product complexity and PCI must equal
``lib.measures.eci.eci_pci_matrix`` within 1e-9 (the R package's world trade, real data).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import functions as F

from lib.execution.distributed.cooccurrence import activity_index, indexed_ones
from lib.execution.distributed.eci import distributed_eci
from lib.execution.distributed.presence import presence
from lib.measures.eci import eci_pci_matrix
from lib.measures.yearly import YearSettings, year_presence
from tests.reference_data import r_package_exports


def _close(got: pd.Series, expected: pd.Series, what: str) -> None:
    got = got.reindex(expected.index).to_numpy(float)
    expected = expected.to_numpy(float)
    scale = np.max(np.abs(expected), initial=0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-13 * scale, err_msg=what)


def test_eci_of_places_split_over_tasks(spark):
    settings = YearSettings()
    exports = r_package_exports()[0]
    M = presence(spark.createDataFrame(exports), settings).cells.select(
        "year", "place", "activity", "mcp"
    )
    index = activity_index(M)
    ones = indexed_ones(M, index).repartition(4, "a")  # a place's ones in several tasks
    tasks = ones.withColumn("task", F.spark_partition_id()).groupBy("year", "place")
    split = tasks.agg(F.countDistinct("task").alias("tasks")).where("tasks > 1").count()
    assert split > 0, "the ones must come split by place for this test to mean anything"
    run = distributed_eci(spark, ones, index, 4, settings.normalization)
    places = run.places.toPandas()
    assert not places.duplicated(["year", "place"]).any(), "a place has more than one row"
    codes = index.select("year", "activity", "a").toPandas()
    for year, rows in exports.groupby("year"):
        yp = year_presence(rows.reset_index(drop=True), settings, int(year))
        ref = eci_pci_matrix(yp.M, settings.normalization)
        countries, products = yp.codes
        got = places[places["year"] == year].set_index("place")
        expected = pd.Series(ref.eci, index=countries).dropna()
        assert len(got) == len(expected)
        _close(got["eci"], expected, "eci")
        mean_pci = pd.Series(ref.mean_product_complexity, index=countries).dropna()
        _close(got["mean_product_complexity"], mean_pci, "mean_product_complexity")
        order = codes[codes["year"] == year].sort_values("a")["activity"].tolist()
        expected_pci = pd.Series(ref.pci, index=products.astype(str)).dropna()
        _close(pd.Series(run.pci[year], index=order), expected_pci, "pci")
