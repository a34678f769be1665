"""RCA, M (window aggregations) and Fitness / NHEFC (distributed updates) equal the in-task path.

The in-task reference is the yearly core itself (``lib.measures.yearly.year_presence``,
``country_fitness``), on the same rows: the R package's world trade (real data), the SYNTHETIC
UK regions employment table (a place x activity input), and a small matrix with a place and an
activity of a single entry and tied values. Every RCA, rca_difference, RPOP, M, fitness and
complexity must agree within 1e-9 (relative), with the same number of steps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.execution.distributed.cooccurrence import activity_index, indexed_ones
from lib.execution.distributed.fitness import cached_ones, distributed_fitness
from lib.execution.distributed.presence import presence
from lib.measures.yearly import YearSettings, country_fitness, year_presence
from tests.reference_data import r_package_exports


def _regions() -> pd.DataFrame:
    from lib.datasets.regions import generate_uk_regions

    rows = generate_uk_regions(years=(2020, 2021))
    codes = {p: i for i, p in enumerate(sorted(rows["place"].unique()))}
    return pd.DataFrame(
        {
            "year": rows["year"].astype("int32"),
            "country_code": rows["place"].map(codes).astype("int32"),
            "product": rows["activity"].astype(str),
            "export_value": rows["value"].astype(float),
        }
    )


def _small() -> pd.DataFrame:
    """Place 9 has one entry (activity z, which only it has); ties: places 1 and 2 equal."""
    rows = [(1, "a", 5.0), (1, "b", 5.0), (2, "a", 5.0), (2, "b", 5.0), (3, "b", 1.0)]
    rows += [(3, "c", 7.0), (4, "a", 2.0), (4, "c", 2.0), (9, "z", 3.0), (5, "c", 0.0)]
    frame = pd.DataFrame(rows, columns=["country_code", "product", "export_value"])
    return frame.assign(year=2001)[["year", "country_code", "product", "export_value"]]


DATASETS = {"r_package": lambda: r_package_exports()[0], "regions": _regions, "small": _small}


def _close(got, expected, what):
    got, expected = np.asarray(got, float), np.asarray(expected, float)
    assert got.shape == expected.shape, what
    assert np.array_equal(np.isnan(got), np.isnan(expected)), f"{what}: NULLs differ"
    ok = np.isfinite(expected)
    scale = np.max(np.abs(expected[ok]), initial=0.0)
    np.testing.assert_allclose(got[ok], expected[ok], rtol=1e-9, atol=1e-13 * scale, err_msg=what)


SETTINGS = {
    "default": YearSettings(),
    "atlas": YearSettings(min_country_export=2e6, min_product_export=1e4, rca_strict=True),
    "threshold_0_8": YearSettings(rca_threshold=0.8, min_product_export=5.0),
}


@pytest.mark.parametrize(
    "data, name",
    [("small", n) for n in sorted(SETTINGS)] + [("regions", "default"), ("r_package", "atlas")],
)
def test_presence_equals_in_task(spark, data, name):
    exports, settings = DATASETS[data](), SETTINGS[name]
    got = presence(spark.createDataFrame(exports), settings)
    cells = got.cells.toPandas()
    places = got.places.toPandas()
    activities = got.activities.toPandas()
    for year, rows in exports.groupby("year"):
        yp = year_presence(rows.reset_index(drop=True), settings, int(year))
        countries, products = yp.codes
        c, p = np.nonzero(yp.X > 0)
        expected = pd.DataFrame({"place": countries[c], "activity": products[p].astype(str)})
        mine = cells[cells["year"] == year].merge(expected, on=["place", "activity"], how="right")
        assert len(mine) == len(cells[cells["year"] == year]) == c.size
        for column, matrix in [
            ("export_value", yp.X),
            ("rca", yp.rca),
            ("rca_difference", yp.rca_difference),
            ("rpop", yp.rpop),
            ("mcp", yp.M),
        ]:
            _close(mine[column], matrix[c, p], f"{data} {name} {year} {column}")
        pl = places[places["year"] == year].sort_values("place")
        assert pl["place"].tolist() == yp.countries.tolist()
        _close(pl["export_value"], yp.total_exports, "place totals")
        assert pl["kept"].tolist() == yp.kept_countries.tolist()
        ac = activities[activities["year"] == year].sort_values("activity")
        assert ac["activity"].tolist() == [str(x) for x in yp.products]
        _close(ac["world_export_value"], yp.world_exports, "activity totals")
        assert ac["kept"].tolist() == yp.kept_products.tolist()


def _fitness_case(spark, exports, settings):
    got = presence(spark.createDataFrame(exports), settings)
    M = got.cells.select("year", "place", "activity", "mcp")
    index = activity_index(M)
    ones = cached_ones(indexed_ones(M, index), 3)
    sizes = {
        r["year"]: r["activities"] for r in index.select("year", "activities").distinct().collect()
    }
    run = distributed_fitness(spark, ones, sizes, settings)
    fitness = run.fitness.toPandas()
    codes = index.select("year", "activity", "a").toPandas()
    ones.unpersist()
    for year, rows in exports.groupby("year"):
        yp = year_presence(rows.reset_index(drop=True), settings, int(year))
        ref = country_fitness(yp.M, settings)
        countries, products = yp.codes
        f = fitness[fitness["year"] == year].set_index("place")["fitness"]
        expected_f = pd.Series(ref.fitness, index=countries).dropna()
        _close(f.reindex(expected_f.index), expected_f, f"{year} fitness")
        assert len(f) == len(expected_f)
        order = codes[codes["year"] == year].sort_values("a")["activity"].tolist()
        expected_q = pd.Series(ref.complexity, index=products.astype(str)).dropna()
        _close(
            pd.Series(run.complexity[year], index=order).reindex(expected_q.index), expected_q, "Q"
        )
        assert run.iterations[year] == ref.iterations
        # a difference of O(1) iterates: equal to rounding (absolute), not relatively
        np.testing.assert_allclose(run.final_change[year], ref.final_change, rtol=0, atol=1e-12)
    return run


FAST = [
    YearSettings(max_iterations=19, tolerance=0.0),  # the R package's 20 iterations
    YearSettings(fitness_method="nhefc", max_iterations=7, tolerance=0.0),
]
# One Spark job a step: the long iterations are slow on the shared test session (scale marker).
LONG = [
    YearSettings(max_iterations=60),  # stops by underflow or at N
    YearSettings(fitness_method="nhefc", max_iterations=200, tolerance=1e-10),
]


@pytest.mark.parametrize("data", ["regions", "small"])
@pytest.mark.parametrize("settings", FAST, ids=["tacchella19", "nhefc7"])
def test_fitness_equals_in_task(spark, data, settings):
    _fitness_case(spark, DATASETS[data](), settings)


@pytest.mark.scale
@pytest.mark.parametrize("data", sorted(DATASETS))
@pytest.mark.parametrize(
    "settings", FAST + LONG, ids=["tacchella19", "nhefc7", "tacchella60", "nhefc_tol"]
)
def test_long_fitness_equals_in_task(spark, data, settings):
    _fitness_case(spark, DATASETS[data](), settings)


def test_fitness_stops_on_tolerance_like_in_task(spark):
    """A tolerance reached before N: the same step count (the lagged change decides)."""
    run = _fitness_case(spark, _small(), YearSettings(max_iterations=200, tolerance=1e-6))
    assert 1 < run.iterations[2001] < 200


def test_no_window_holds_a_whole_year(spark):
    # A window over (year) alone puts all of a year's rows in one task, the ceiling this path
    # exists to lift: the year's totals must be aggregations, the windows keyed by place or
    # activity too. The plan text names each window's keys.
    import contextlib
    import io
    import re

    result = presence(spark.createDataFrame(_small()), YearSettings(two_step=True))
    for name, frame in vars(result).items():
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            frame.explain()
        keys = re.findall(r"windowspecdefinition\(([^)]*?)specifiedwindowframe", text.getvalue())
        assert all(k.count("#") > 1 for k in keys), f"{name}: a window over year alone: {keys}"


def test_too_many_activities_stop_with_the_year():
    # The product space holds P x P matrices in every task (about a dozen copies at the peak,
    # measured): past MAX_ACTIVITIES a year must stop with an error naming it, not overrun a task.
    from lib.execution.distributed.cooccurrence import MAX_ACTIVITIES, check_activities

    check_activities(2001, MAX_ACTIVITIES)
    with pytest.raises(ValueError, match=r"year 2001: 2,001 activities"):
        check_activities(2001, MAX_ACTIVITIES + 1)
    assert MAX_ACTIVITIES <= 2_000
