"""jobs/fitness.py on a SYNTHETIC tall place x activity table (lib.datasets.synthetic.tall),
through the job's own path: labelled synthetic, every place and activity in the tables, Fitness
ranking the places by their latent capability, and RCA, M, Fitness and Complexity equal to the
independent scipy.sparse references (tests/reference_sparse.py) within 1e-9 relative.

The same references will check the distributed path (issue 21) at 100,000 x 1,000.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp
from deltalake import DeltaTable

from lib.datasets.synthetic import tall
from lib.datasets.synthetic.tall import TallSpec, generate_tall
from tests import reference_sparse as ref
from tests.conftest import data_path
from tests.reference_data import R_DIR
from tests.shared_run import run_fitness_job

SPEC = TallSpec(places=1500, activities=120, density=0.04, years=(2019, 2020), seed=3)
MAX_ITERATIONS, TOLERANCE = 200, 1e-12  # conf/default.toml's fitness settings
RELATIVE = 1e-9


def _read(warehouse: str, name: str) -> pd.DataFrame:
    return DeltaTable(f"{warehouse}/{name}").to_pandas()


@pytest.fixture(scope="module")
def tall_run(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("tall_table")
    source = root / "tall"
    generate_tall(SPEC, source)
    warehouse = str(root / "warehouse")
    run_fitness_job(spark, "--source", str(source), "--warehouse", warehouse)
    return warehouse, pq.read_table(source).to_pandas()


def test_runs_end_to_end_labelled_synthetic(tall_run):
    warehouse, rows = tall_run
    dataset = _read(warehouse, "place_activity_dataset").iloc[0]
    assert dataset.synthetic and "SYNTHETIC" in dataset.note
    log = _read(warehouse, "run_log")
    assert log["status"].tolist() == ["succeeded"] and log["source_kind"].tolist() == ["synthetic"]
    country_year = _read(warehouse, "place_year")
    for year, part in rows.groupby("year"):
        mine = country_year[country_year.year == year]
        assert set(mine.place) == set(part.place) and mine.fitness.notna().all()
        products = _read(warehouse, "activity_year")
        assert set(products[products.year == year].activity) == set(part.activity)
    assert len(_read(warehouse, "place_structure_year")) == 2 * SPEC.places


def test_fitness_ranks_places_by_latent_capability(tall_run):
    """The nested model makes Fitness meaningful: it orders places much as their capability."""
    warehouse, _ = tall_run
    latest = _read(warehouse, "place_year").query("year == 2020")
    capability = tall.capability(SPEC, 0, SPEC.places)[[int(p[1:]) - 1 for p in latest.place]]
    rank = np.corrcoef(np.argsort(np.argsort(capability)), np.argsort(np.argsort(latest.fitness)))
    assert rank[0, 1] > 0.6


@pytest.mark.parametrize("year", SPEC.years)
def test_rca_and_m_equal_the_sparse_reference(tall_run, year):
    warehouse, rows = tall_run
    matrix = ref.sparse_year(rows[rows.year == year])
    expected = ref.balassa(matrix.X)  # conf/default.toml: threshold 1, not strict, no floors
    grid = _read(warehouse, "place_activity_year").query("year == @year")
    assert len(grid) == len(matrix.places) * len(matrix.activities)  # in-task: every pair
    assert ref.rca_difference(grid, matrix, expected) < RELATIVE
    assert expected.M.nnz == int(grid.mcp.sum()) > 0


@pytest.mark.parametrize("year", SPEC.years)
def test_fitness_and_complexity_equal_the_sparse_reference(tall_run, year):
    warehouse, rows = tall_run
    matrix = ref.sparse_year(rows[rows.year == year])
    expected = ref.fitness_complexity(ref.balassa(matrix.X).M, MAX_ITERATIONS, TOLERANCE)
    fitness, complexity = ref.fitness_difference(
        _read(warehouse, "place_year").query("year == @year"),
        _read(warehouse, "activity_year").query("year == @year"),
        matrix,
        expected,
    )
    assert fitness < RELATIVE and complexity < RELATIVE
    convergence = _read(warehouse, "fitness_convergence").set_index("year").loc[year]
    assert convergence.iterations == expected.iterations


def test_the_sparse_reference_reproduces_the_r_package():
    """The references themselves, on real data: the R package economiccomplexity's stored M
    (balassa_index) and Fitness / Complexity (20 iterations, i.e. 19 updates from 1)."""
    trade = pd.read_csv(data_path(*R_DIR, "world_trade_avg_1998_to_2000.csv"), dtype=str)
    rows = pd.DataFrame(
        {"place": trade["country"], "activity": trade["product"], "value": trade["value"]}
    ).astype({"value": float})
    matrix = ref.sparse_year(rows)
    rca = ref.balassa(matrix.X)
    ones = pd.read_csv(data_path(*R_DIR, "package_output_balassa_index_ones.csv"), dtype=str)
    mine = ref.long_form(rca.M, matrix, "m")
    assert set(zip(mine.place, mine.activity, strict=True)) == set(
        zip(ones.country, ones["product"], strict=True)
    )
    result = ref.fitness_complexity(rca.M, 19, 0.0)
    f = pd.read_csv(data_path(*R_DIR, "package_output_fitness_country.csv")).set_index("country")
    got = pd.Series(result.fitness, matrix.places).loc[f.index]
    assert ref.relative_difference(got, f["fitness"]) < RELATIVE
    q = pd.read_csv(data_path(*R_DIR, "package_output_fitness_product.csv"), dtype={"product": str})
    got_q = pd.Series(result.complexity, matrix.activities).loc[q["product"]]
    assert ref.relative_difference(got_q, q["complexity"]) < RELATIVE
    assert result.iterations == 19 and isinstance(rca.M, sp.csr_matrix)


def test_the_comparisons_catch_a_wrong_cell(tmp_path):
    """The comparison helpers fail on a changed RCA, a missing cell or a flipped M."""
    generate_tall(TallSpec(200, 30, 0.1, (2019,), seed=1), tmp_path)
    matrix = ref.sparse_year(pq.read_table(tmp_path).to_pandas())
    expected = ref.balassa(matrix.X)
    grid = (
        ref.long_form(matrix.X, matrix, "export_value")
        .merge(ref.long_form(expected.rca, matrix, "rca"))
        .merge(ref.long_form(expected.M, matrix, "mcp"), how="left")
        .fillna({"mcp": 0})
        .astype({"mcp": int})
    )
    assert ref.rca_difference(grid, matrix, expected) < 1e-15
    changed = grid.copy()
    changed.loc[5, "rca"] *= 1 + 1e-8
    assert ref.rca_difference(changed, matrix, expected) > RELATIVE
    with pytest.raises(AssertionError):
        ref.rca_difference(grid.drop(index=7), matrix, expected)
    flipped = grid.copy()
    flipped.loc[0, "mcp"] = 1 - flipped.loc[0, "mcp"]
    with pytest.raises(AssertionError):
        ref.rca_difference(flipped, matrix, expected)


# --- the distributed path (execution.matrix = distributed) against the same references ------

FAST_STEPS = 19  # one Spark job a step: 19 updates keep the default suite short


@pytest.fixture(scope="module")
def tall_distributed(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("tall_distributed")
    source = root / "tall"
    generate_tall(SPEC, source)
    warehouse = str(root / "warehouse")
    run_fitness_job(
        spark,
        *("--source", str(source), "--warehouse", warehouse),
        *("--set", "execution.matrix=distributed", "--set", f"fitness.max_iterations={FAST_STEPS}"),
        *("--set", "fitness.tolerance=0"),
    )
    return warehouse, pq.read_table(source).to_pandas()


@pytest.mark.parametrize("year", SPEC.years)
def test_distributed_rca_m_fitness_equal_the_sparse_reference(tall_distributed, year):
    warehouse, rows = tall_distributed
    log = _read(warehouse, "run_log").iloc[0]
    assert dict(log["row_counts"])[f"indicators.distributed.{year}"] == 1
    matrix = ref.sparse_year(rows[rows.year == year])
    expected = ref.balassa(matrix.X)
    grid = _read(warehouse, "place_activity_year").query("year == @year")
    assert ref.rca_difference(grid, matrix, expected) < RELATIVE
    assert expected.M.nnz == int(grid.mcp.sum()) > 0
    fitness, complexity = ref.fitness_difference(
        _read(warehouse, "place_year").query("year == @year"),
        _read(warehouse, "activity_year").query("year == @year"),
        matrix,
        ref.fitness_complexity(expected.M, FAST_STEPS, 0.0),
    )
    assert fitness < RELATIVE and complexity < RELATIVE
