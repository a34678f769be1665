"""The two ways the yearly prediction tasks get their rows give the same tables: reading the
grid's Parquet files themselves (a local warehouse, the default job) or Spark spreading the
grid's rows over one partition a year (other storage, or with the classifiers' scores)."""

from __future__ import annotations

from lib.execution.prediction import prediction_outputs
from lib.io import delta_arrow
from lib.prediction.settings import PredictionSettings
from lib.run.prediction import GRID_COLUMNS
from tests.prediction.conftest import HORIZON, YEARS, K
from tests.shared_run import assert_same_table


def test_tasks_reading_the_files_equal_spark_spreading_the_rows(spark, prediction_run):
    settings = PredictionSettings(horizon=HORIZON, k=K)
    uri = f"{prediction_run.warehouse}/country_product_year"
    years = list(YEARS)
    files = delta_arrow.data_files_by_year(uri)
    assert sorted(files) == years
    grid = spark.read.format("delta").load(uri).select(*GRID_COLUMNS)
    by_files = prediction_outputs(spark, None, None, settings, years, None, files)
    by_spark = prediction_outputs(spark, grid, None, settings, years, None, None)
    try:
        assert by_files.backtest.num_rows == len([t for t in YEARS if t + HORIZON in YEARS])
        assert_same_table(by_files.backtest, by_spark.backtest, "backtest", tolerance=0)
        assert_same_table(by_files.backtest_place, by_spark.backtest_place, "place", tolerance=0)
        opportunities = [o.opportunities.toArrow() for o in (by_files, by_spark)]
        assert opportunities[0].num_rows > 5000
        assert_same_table(*opportunities, "opportunities", tolerance=0)
    finally:
        by_files.release()
        by_spark.release()
