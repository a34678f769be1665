"""Both paths write the same indicators: the distributed assembly against the in-task core.

``distributed_tables`` (every table row the distributed path writes) and the in-task yearly
core (``tests.reference_data.yearly_core``: what the job's yearly task runs) on the same rows:
the R package's world trade (real), the SYNTHETIC UK regions employment table (place x
activity), a small matrix with a place and an activity of a single entry, ties and a year
whose rows are all zero, and the Atlas / OEC size rules and the Atlas two-step. Every value
both write agrees within 1e-9 relative (1e-12 x the column's scale for values that are 0 up
to rounding, e.g. COG); ranks and counts exactly. The default iteration count is long (one
Spark job a step), so the fast suite runs 19 steps and the ``scale`` marker the defaults.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.execution.distributed.tables import distributed_tables
from lib.measures.yearly import YearSettings
from tests.execution.distributed.test_presence_fitness import DATASETS, _small
from tests.reference_data import yearly_core

COUNTRY = [
    "export_value",
    "diversification",
    "fitness",
    "log10_fitness",
    "fitness_rank",
    "eci",
    "eci_rank",
    "coi",
    "mean_product_complexity",
    "in_core",
]
PRODUCT = [
    "world_export_value",
    "ubiquity",
    "complexity",
    "log10_complexity",
    "complexity_rank",
    "pci",
    "in_core",
]
GRID = ["export_value", "rca", "rca_difference", "mcp", "rpop", "density", "cog"]


def _with_zero_year(frame: pd.DataFrame) -> pd.DataFrame:
    """The data plus a year whose rows are all zero (places and activities, no values)."""
    zero = frame[frame["year"] == frame["year"].min()].assign(year=1990, export_value=0.0)
    return pd.concat([frame, zero], ignore_index=True)


def _compare(got: pd.DataFrame, expected: pd.DataFrame, keys: list[str], columns, what):
    merged = expected.merge(got, on=keys, how="outer", suffixes=("_in", "_dist"), indicator=True)
    assert (merged["_merge"] == "both").all(), f"{what}: rows differ"
    for column in columns:
        a = pd.to_numeric(merged[f"{column}_dist"], errors="coerce").astype(float).to_numpy()
        b = pd.to_numeric(merged[f"{column}_in"], errors="coerce").astype(float).to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)), f"{what}.{column}: NULLs differ"
        ok = np.isfinite(b)
        scale = np.max(np.abs(b[ok]), initial=0.0)
        np.testing.assert_allclose(
            a[ok], b[ok], rtol=1e-9, atol=1e-12 * scale, err_msg=f"{what}.{column}"
        )


def _both(spark, exports, **settings):
    expected = yearly_core(exports, **settings)
    got = distributed_tables(spark, spark.createDataFrame(exports), YearSettings(**settings), 3)
    grid = got.grid.toPandas()
    for df in got.cached:
        df.unpersist()
    _compare(got.country, expected.country, ["year", "country_code"], COUNTRY, "country")
    _compare(got.product, expected.product, ["year", "product"], PRODUCT, "product")
    conv = expected.convergence
    if len(conv):
        merged = conv.merge(got.convergence, on="year", suffixes=("_in", "_dist"))
        assert len(merged) == len(conv) == len(got.convergence)
        assert (merged["iterations_in"] == merged["iterations_dist"]).all()
        np.testing.assert_allclose(
            merged["final_change_dist"], merged["final_change_in"], atol=1e-12
        )
    # The grid: every cell the distributed path writes equals the in-task cell; the in-task
    # grid also has the cells of places / activities without any M = 1 (density NULL).
    ing = expected.grid
    keys = ["year", "country_code", "product"]
    only = ing.merge(grid[keys], on=keys, how="left", indicator=True)
    only = only[only["_merge"] == "left_only"]
    assert only["density"].isna().all() and (only["export_value"] == 0).all()
    _compare(grid, ing.merge(grid[keys], on=keys), keys, GRID, "grid")
    return got


FAST = {"max_iterations": 19, "tolerance": 0.0}
PRESETS = {
    "default": {},
    "atlas": {
        "min_country_export": 2e6,
        "min_product_export": 1e4,
        "rca_strict": True,
        "two_step": True,
    },
    "oec": {"min_country_export": 5e6, "min_product_export": 5e4},
    "zscore_nhefc": {
        "normalization": "zscore",
        "fitness_method": "nhefc",
        "proximity_diagonal": 1.0,
    },
}


def _case(spark, data, preset):
    exports = DATASETS[data]()
    if data == "small":
        exports = _with_zero_year(exports)
    _both(spark, exports, **FAST, **PRESETS[preset])


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_paths_equal_small(spark, preset):
    _case(spark, "small", preset)


@pytest.mark.parametrize("preset", ["default", "atlas"])
def test_paths_equal_regions(spark, preset):
    _case(spark, "regions", preset)


# The R package's world trade is also run through the job on both paths in the default suite
# (test_job_paths.py); every preset on it is slow on a shared machine: the scale marker.
@pytest.mark.scale
@pytest.mark.parametrize("data", ["r_package", "regions"])
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_paths_equal_every_preset(spark, data, preset):
    _case(spark, data, preset)


def test_single_entry_and_ties(spark):
    """Place 9's only activity z is no one else's: outside ECI's component (NULL), with a
    fitness; places 1 and 2 are tied and share their ranks."""
    got = _both(spark, _small(), **FAST)
    c = got.country.set_index("country_code")
    assert np.isnan(c.loc[9, "eci"]) and np.isfinite(c.loc[9, "fitness"])
    assert c.loc[1, "fitness_rank"] == c.loc[2, "fitness_rank"]


@pytest.mark.scale
@pytest.mark.parametrize("data", sorted(DATASETS))
def test_paths_equal_default_iterations(spark, data):
    _both(spark, DATASETS[data]())
