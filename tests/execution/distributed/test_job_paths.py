"""``execution.matrix`` through the job: both paths write the same tables, and the run log
and the progress say which path computed each year.

The R package's world trade (real data) as a place x activity CSV, run with
``--set execution.matrix=in_task`` and ``=distributed``; every table both write is compared
(within 1e-9 relative; the distributed grid leaves out the cells without exports of places or
activities that have no M = 1, docs/execution.md). ``auto`` keeps such a small year in-task.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deltalake import DeltaTable

from tests.shared_run import read_deltalake, run_fitness_job

R_DATA = Path(__file__).resolve().parents[2] / "data" / "economiccomplexity_r"
FAST = ("--set", "fitness.max_iterations=19", "--set", "fitness.tolerance=0")


def _read(warehouse: str, name: str) -> pd.DataFrame:
    return DeltaTable(f"{warehouse}/{name}").to_pandas()


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> str:
    return r_trade_csv(tmp_path_factory.mktemp("r_trade"))


def _run(spark, source: str, root: Path, mode: str) -> tuple[str, dict]:
    warehouse = str(root / mode)
    run_id = run_fitness_job(
        spark,
        *("--source", source, "--warehouse", warehouse),
        *FAST,
        *("--set", f"execution.matrix={mode}"),
    )
    runs = read_deltalake(f"{warehouse}/run_log").to_pylist()
    counts = dict(next(r for r in runs if r["run_id"] == run_id)["row_counts"])
    return warehouse, counts


def _equal(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], what: str) -> None:
    merged = a.merge(b, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    assert (merged["_merge"] == "both").all(), f"{what}: rows differ"
    for column in [c for c in a.columns if c not in keys]:
        x, y = merged[f"{column}_a"], merged[f"{column}_b"]
        if x.dtype == object or str(x.dtype) in ("string", "bool", "boolean"):
            assert (x.fillna("<null>").astype(str) == y.fillna("<null>").astype(str)).all(), what
            continue
        x, y = x.astype(float).to_numpy(), y.astype(float).to_numpy()
        assert np.array_equal(np.isnan(x), np.isnan(y)), f"{what}.{column}: NULLs differ"
        ok = np.isfinite(x)
        scale = np.max(np.abs(x[ok]), initial=0.0)
        np.testing.assert_allclose(y[ok], x[ok], rtol=1e-9, atol=1e-12 * scale, err_msg=column)


def r_trade_csv(folder: Path) -> str:
    """The R package's world trade as a place x activity CSV (real data, year 2000)."""
    trade = pd.read_csv(R_DATA / "world_trade_avg_1998_to_2000.csv", dtype={"product": str})
    path = folder / "world_trade_sitc.csv"
    trade.rename(columns={"country": "place", "product": "activity"}).assign(year=2000).to_csv(
        path, index=False
    )
    return str(path)


def distributed_job_args(source: str) -> list[str]:
    """The job's arguments for the distributed run (the cluster and Connect tests use them)."""
    return ["--source", source, *FAST, "--set", "execution.matrix=distributed"]


def assert_paths_equal(in_task: str, distributed: str) -> None:
    """Every table both warehouses hold is equal (1e-9 relative); the distributed grid's
    cells are the in-task grid's less those without exports and without density."""
    keys = {  # the place x activity tables (lib.tables.naming)
        "place_year": ["year", "place"],
        "activity_year": ["year", "activity"],
        "fitness_convergence": ["year"],
        "activity_proximity": ["year", "activity_a", "activity_b"],
    }
    for name, key in keys.items():
        _equal(_read(in_task, name), _read(distributed, name), key, name)
    grid_keys = ["year", "place", "activity"]
    a, b = _read(in_task, "place_activity_year"), _read(distributed, "place_activity_year")
    only = a.merge(b[grid_keys], on=grid_keys, how="left", indicator=True)
    only = only[only["_merge"] == "left_only"]
    assert only["density"].isna().all() and (only["export_value"] == 0).all()
    _equal(a.merge(b[grid_keys], on=grid_keys), b, grid_keys, "place_activity_year")


def in_task_reference(spark, source: str, root: Path) -> str:
    """The in-task run of ``source`` (the reference of the other deployments)."""
    return _run(spark, source, root, "in_task")[0]


def test_both_paths_write_the_same_tables(spark, source, tmp_path):
    in_task, counts_in = _run(spark, source, tmp_path, "in_task")
    distributed, counts_dist = _run(spark, source, tmp_path, "distributed")
    assert counts_in["indicators.in_task.2000"] == 1
    assert counts_dist["indicators.distributed.2000"] == 1
    assert_paths_equal(in_task, distributed)


def test_auto_chooses_from_the_shape():
    """auto: BACI's largest years in-task, County Business Patterns' 3,100 counties too (ECI on
    the smaller side: no 3,100 x 3,100 matrix), a tall table and ~6 million cells either way
    distributed; explicit modes obeyed."""
    from lib.execution.distributed.choice import MatrixShape, choose

    hs6 = MatrixShape(240, 5_200, 600_000)
    county = MatrixShape(3_100, 1_000, 900_000)
    skills = MatrixShape(300, 13_000, 600_000)  # job postings: metro areas x skills
    wide = MatrixShape(2_000, 3_000, 600_000)
    deep = MatrixShape(6_000, 1_000, 600_000)
    tall = MatrixShape(100_000, 1_000, 2_000_000)
    assert {choose("auto", s) for s in (hs6, county, skills)} == {"in_task"}
    assert {choose("auto", s) for s in (wide, deep, tall)} == {"distributed"}
    assert choose("in_task", tall) == "in_task" and choose("distributed", hs6) == "distributed"
    with pytest.raises(ValueError, match="execution.matrix"):
        choose("fast", hs6)


def test_distributed_tasks_grow_with_the_nonzeros():
    """At least spark.shuffle_partitions tasks, and one per 250,000 nonzeros of the distributed
    years (the in-task years do not count), so that a cluster's cores get work."""
    from lib.execution.distributed.choice import MatrixShape, distributed_partitions

    tall = MatrixShape(100_000, 1_000, 2_000_000)
    small = MatrixShape(200, 50, 3_000)
    both = {2019: "distributed", 2020: "distributed"}
    assert distributed_partitions(8, {2019: tall, 2020: tall}, both) == 16
    assert distributed_partitions(8, {2019: tall, 2020: tall}, {**both, 2020: "in_task"}) == 8
    assert distributed_partitions(8, {2019: small}, {2019: "distributed"}) == 8
    assert distributed_partitions(40, {2019: tall}, {2019: "distributed"}) == 40


def test_baci_release_on_the_distributed_path(spark, tmp_path, tmp_path_factory):
    """A BACI release forced onto the distributed path (Spark aggregates the flows, then the
    distributed tables) writes the in-task path's country_year, product_year and
    fitness_convergence."""
    from tests.shared_run import shared_release

    release = str(shared_release(tmp_path_factory))
    args = ("--source", release, *FAST, "--set", "prediction.enabled=false")
    warehouses = {}
    for mode in ("in_task", "distributed"):
        warehouses[mode] = str(tmp_path / mode)
        run_fitness_job(
            spark, *args, "--warehouse", warehouses[mode], "--set", f"execution.matrix={mode}"
        )
    for name, key in {
        "country_year": ["year", "country_code"],
        "product_year": ["year", "product"],
        "fitness_convergence": ["year"],
    }.items():
        _equal(
            _read(warehouses["in_task"], name), _read(warehouses["distributed"], name), key, name
        )
