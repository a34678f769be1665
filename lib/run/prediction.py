"""The prediction stage of a run: read the indicator grid, write the opportunity and backtest
tables (``lib.prediction``), recorded in the run log.

The tables are rewritten whole when the grid changed (another table version), the prediction
settings or the code changed, or one is missing: a year's backtest depends on year t + h, so a
recomputed year changes the rows of another. The key of what they were made from is kept in the
``prediction_key`` of the last table's commit metadata. Must not: compute anything itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from pyspark import StorageLevel
from pyspark.sql import SparkSession

from lib.io import catalog, delta
from lib.prediction.opportunities import prediction_frames
from lib.prediction.settings import PredictionSettings
from lib.run import progress
from lib.run.config import Config
from lib.run.run_log import RunRecord
from lib.run.settings import prediction_settings
from lib.run.versions import PREDICTION_MODULES, code_fingerprint

PRODUCT_OPPORTUNITIES = "product_opportunities"
PREDICTION_BACKTEST = "prediction_backtest"
PREDICTION_BACKTEST_PLACE = "prediction_backtest_place"
PREDICTION_TABLES = (PRODUCT_OPPORTUNITIES, PREDICTION_BACKTEST_PLACE, PREDICTION_BACKTEST)
GRID_COLUMNS = ["year", "country_code", "product", "rca", "mcp", "density"]


def prediction_key(settings: PredictionSettings, grid_version: int | None) -> str:
    """Changes with the prediction code, its settings and the grid's table version (which
    changes whenever the indicators are rewritten)."""
    text = code_fingerprint(only=PREDICTION_MODULES) + json.dumps(
        [asdict(settings), grid_version], sort_keys=True, default=list
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _current(spark: SparkSession, warehouse: str, key: str) -> bool:
    if not all(delta.table_exists(spark, warehouse, name) for name in PREDICTION_TABLES):
        return False
    commit = delta.last_commit(spark, delta.table_path(warehouse, PREDICTION_BACKTEST)) or {}
    try:
        return json.loads(commit.get("userMetadata") or "{}").get("prediction_key") == key
    except ValueError:
        return False


def run_prediction(spark: SparkSession, config: Config, run: RunRecord) -> bool:
    """Write the prediction tables if they are not current; True if they were written."""
    warehouse = config.output.warehouse
    if not config.prediction.enabled:
        return False
    if not config.product_space.enabled:
        print("prediction: skipped (it scores by density: needs product_space.enabled = true)")
        return False
    settings = prediction_settings(config)
    grid_version = delta.table_version(spark, warehouse, delta.COUNTRY_PRODUCT_YEAR)
    key = prediction_key(settings, grid_version)
    if _current(spark, warehouse, key):
        return False
    from lib.run.workflow import stage  # the run log's stage timer

    with stage(run, "prediction"), progress.stage("prediction", detail="opportunity scores"):
        years = sorted(delta.table_years(spark, warehouse, delta.COUNTRY_PRODUCT_YEAR))
        grid = delta.read_table(spark, warehouse, delta.COUNTRY_PRODUCT_YEAR, grid_version)
        frames = prediction_frames(grid.select(*GRID_COLUMNS), settings, years)
        opportunities = frames.opportunities.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            delta.write_table(opportunities, warehouse, PRODUCT_OPPORTUNITIES, run.run_id)
            progress.update(f"{PRODUCT_OPPORTUNITIES} written")
            tables = {
                PREDICTION_BACKTEST_PLACE: frames.backtest_place,
                PREDICTION_BACKTEST: frames.backtest,  # last: its commit holds the key
            }
            for name, df in tables.items():
                rows = df.toArrow()
                delta.write_arrow_rows(
                    spark,
                    rows,
                    warehouse,
                    name,
                    run.run_id,
                    writer=config.output.writer,
                    metadata={"prediction_key": key},
                )
                run.row_counts[f"prediction.{name}"] = rows.num_rows
                progress.update(f"{name} written")
        finally:
            opportunities.unpersist()
    catalog.register_tables(spark, config.output, PREDICTION_TABLES)
    return True
