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

import pandas as pd
import pyarrow as pa
from pyspark.sql import SparkSession
from pyspark.sql.pandas.types import to_arrow_schema

from lib.execution.prediction import prediction_outputs
from lib.execution.years import conformed_frame
from lib.io import catalog, delta, delta_arrow
from lib.prediction.growth import GROWTH_BACKTEST_SCHEMA, growth_backtest, ordered_states
from lib.prediction.settings import ML_METHODS, GrowthSettings, PredictionSettings
from lib.run import progress
from lib.run.config import Config
from lib.run.run_log import RunRecord
from lib.run.settings import growth_settings, prediction_settings
from lib.run.versions import PREDICTION_MODULES, code_fingerprint
from lib.run.workflow import stage
from lib.tables import TABLES

PRODUCT_OPPORTUNITIES = "product_opportunities"
PREDICTION_BACKTEST = "prediction_backtest"
PREDICTION_BACKTEST_PLACE = "prediction_backtest_place"
PREDICTION_TABLES = (PRODUCT_OPPORTUNITIES, PREDICTION_BACKTEST_PLACE, PREDICTION_BACKTEST)
GROWTH_FORECAST = "growth_forecast"
GROWTH_BACKTEST = "growth_backtest"
GROWTH_TABLES = (GROWTH_FORECAST, GROWTH_BACKTEST)
GRID_COLUMNS = ["year", "country_code", "product", "rca", "mcp", "density"]


def prediction_key(
    settings: PredictionSettings, growth: GrowthSettings | None, grid_version: int | None
) -> str:
    """Changes with the prediction code, its settings and the grid's table version (which
    changes whenever the indicators are rewritten)."""
    options = [asdict(settings), asdict(growth) if growth else None, grid_version]
    text = code_fingerprint(only=PREDICTION_MODULES) + json.dumps(
        options, sort_keys=True, default=list
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _current(spark: SparkSession, warehouse: str, key: str, names: tuple[str, ...]) -> bool:
    if not all(delta.table_exists(spark, warehouse, name) for name in names):
        return False
    commit = delta.last_commit(spark, delta.table_path(warehouse, PREDICTION_BACKTEST)) or {}
    try:
        return json.loads(commit.get("userMetadata") or "{}").get("prediction_key") == key
    except ValueError:
        return False


def _growth_states(spark: SparkSession, warehouse: str) -> pd.DataFrame:
    """The countries' (ln fitness, ln GDP per capita) states from country_year (one row a
    country and year, read on the driver: no Spark job for a local table)."""
    columns = ["country_code", "year", "fitness", "gdp_per_capita"]
    return ordered_states(spark, delta.read_arrow(spark, warehouse, delta.COUNTRY_YEAR, columns))


def run_prediction(spark: SparkSession, config: Config, run: RunRecord) -> bool:
    """Write the prediction tables if they are not current; True if they were written."""
    warehouse = config.output.warehouse
    if not config.prediction.enabled:
        return False
    if not config.product_space.enabled:
        print("prediction: skipped (it scores by density: needs product_space.enabled = true)")
        return False
    settings = prediction_settings(config)
    growth = growth_settings(config) if config.input.country_attributes else None
    names = PREDICTION_TABLES + (GROWTH_TABLES if growth else ())
    grid_version = delta.table_version(spark, warehouse, delta.COUNTRY_PRODUCT_YEAR)
    key = prediction_key(settings, growth, grid_version)
    if _current(spark, warehouse, key, names):
        return False
    with (
        stage(run, "prediction"),
        progress.stage("prediction", detail="opportunity scores"),
        # the run log is written after this stage: made meanwhile too, if new
        delta.tables_ensured_meanwhile(spark, warehouse, (*names, delta.RUN_LOG)),
    ):
        years = sorted(delta.table_years(spark, warehouse, delta.COUNTRY_PRODUCT_YEAR))
        uri = delta.table_path(warehouse, PRODUCT_OPPORTUNITIES)
        arrow = delta_arrow.use_arrow_writer(config.output.writer, warehouse)
        grid_uri = delta.table_path(warehouse, delta.COUNTRY_PRODUCT_YEAR)
        files = delta_arrow.data_files_by_year(grid_uri, grid_version) if arrow else None
        ml = [m for m in settings.methods if m in ML_METHODS]
        grid = None  # read by Spark only where the tasks do not read its files themselves
        if files is None or ml:
            grid = delta.read_table(spark, warehouse, delta.COUNTRY_PRODUCT_YEAR, grid_version)
            grid = grid.select(*GRID_COLUMNS)
        scores = None
        for method in ml:  # scikit-learn, only when asked for
            from lib.prediction.classifiers import classifier_scores

            theirs = classifier_scores(method, grid, settings)
            scores = theirs if scores is None else scores.unionByName(theirs)
        if arrow:  # the tasks write into the table's folder: it must exist first
            delta.ensure_table(spark, uri, TABLES[PRODUCT_OPPORTUNITIES])
        states = _growth_states(spark, warehouse) if growth is not None else None
        outputs = prediction_outputs(
            spark,
            grid,
            scores,
            settings,
            years,
            uri if arrow else None,
            files,
            None if growth is None else (states, growth),
        )
        cached = [outputs.cached] if outputs.cached is not None else []
        try:
            if arrow:
                replaced = delta.table_years(spark, warehouse, PRODUCT_OPPORTUNITIES) | set(years)
                metadata = delta.commit_metadata(run.run_id)
                delta_arrow.commit_files(
                    uri, outputs.opportunity_files, {"year": sorted(replaced)}, metadata
                )
            else:
                delta.write_table(
                    outputs.opportunities, warehouse, PRODUCT_OPPORTUNITIES, run.run_id
                )
            progress.update(f"{PRODUCT_OPPORTUNITIES} written")
            tables = {PREDICTION_BACKTEST_PLACE: outputs.backtest_place}
            if growth is not None:
                forecast = outputs.growth_forecast
                backtest = growth_backtest(forecast.to_pandas(), states)
                tables.update(
                    {
                        GROWTH_FORECAST: forecast,
                        GROWTH_BACKTEST: pa.Table.from_pandas(
                            conformed_frame(backtest, GROWTH_BACKTEST_SCHEMA),
                            schema=to_arrow_schema(GROWTH_BACKTEST_SCHEMA),
                            preserve_index=False,
                        ),
                    }
                )
            tables[PREDICTION_BACKTEST] = outputs.backtest  # last: its commit holds the key
            for name, rows in tables.items():
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
            for df in cached:
                df.unpersist()
    catalog.register_tables(spark, config.output, names)
    return True
