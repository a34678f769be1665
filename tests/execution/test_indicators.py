"""End to end on a seeded synthetic release: every year's indicators equal an independent numpy
computation written here (from the CSV files, not from our tables), and Fitness recovers the
generator's latent capability order.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deltalake import DeltaTable
from scipy.sparse.csgraph import connected_components
from scipy.stats import spearmanr

from lib.datasets.synthetic import SizeSpec, flow_file_name, generate_release
from lib.io import delta
from lib.io.baci import discover_release
from lib.run.config import load_config
from lib.run.run_log import RunRecord
from lib.run.workflow import run_indicators, run_ingest

SPEC = SizeSpec(years=(2018, 2019), n_countries=60, n_products=800, flows_per_year=20_000)
MAX_ITERATIONS = 200
TOLERANCE = 1e-12


@pytest.fixture(scope="module")
def pipeline_run(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    release_dir = generate_release(root / "release", size=SPEC, seed=7)
    warehouse = str(root / "warehouse")
    config = load_config(overrides=[f'output.warehouse="{warehouse}"'])
    run = RunRecord("test", config)
    run_ingest(spark, config, discover_release(str(release_dir)), run)
    run_indicators(spark, config, run)
    run.write(spark, warehouse, "succeeded")

    def table(name: str) -> pd.DataFrame:
        return DeltaTable(delta.table_path(warehouse, name)).to_pandas()

    table.warehouse = warehouse
    return Path(release_dir), table


# --- the independent computation ----------------------------------------------------------


def exports_from_csv(release_dir: Path, year: int) -> pd.DataFrame:
    flows = pd.read_csv(release_dir / flow_file_name(year), dtype={"k": str})
    flows = flows[~flows["k"].str[:2].isin(["71", "97"]) & ~flows["k"].str.startswith("9999")]
    flows = flows.assign(product=flows["k"].str[:4])
    return flows.groupby(["i", "product"], as_index=False)["v"].sum()


def matrix(exports: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    table = exports.pivot_table(index="i", columns="product", values="v", fill_value=0.0)
    return table.to_numpy(), table.index.to_numpy(), table.columns.to_numpy()


def fitness_loop(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    F = np.ones(M.shape[0])
    Q = np.ones(M.shape[1])
    for _ in range(MAX_ITERATIONS):
        F_new = M @ Q
        Q_new = 1.0 / (M.T @ (1.0 / F))
        F_new, Q_new = F_new / F_new.mean(), Q_new / Q_new.mean()
        change = max(np.abs(F_new - F).max(), np.abs(Q_new - Q).max())
        F, Q = F_new, Q_new
        if change < TOLERANCE:
            break
    return F, Q


def eci_stata(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stata ecomplexity: 2nd eigenvector of D^-1 M U^-1 M', sd over the C x P rows."""
    d, u = M.sum(1), M.sum(0)
    Mcc = (M / d[:, None] / u[None, :]) @ M.T
    values, vectors = np.linalg.eig(Mcc)
    order = np.argsort(-values.real)
    e = vectors[:, order[1]].real
    if np.corrcoef(e, d)[0, 1] < 0:
        e = -e
    mean, sd = e.mean(), np.sqrt(((e - e.mean()) ** 2).sum() * M.shape[1] / (M.size - 1))
    pci_raw = (M.T @ e) / u / values.real[order[1]]
    return (e - mean) / sd, (pci_raw - mean) / sd


def proximity_and_density(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u = M.sum(0)
    phi = (M.T @ M) / np.maximum.outer(u, u)
    np.fill_diagonal(phi, 0.0)
    density = (M @ phi) / phi.sum(0)[None, :]
    return phi, density


# --- the checks ---------------------------------------------------------------------------


@pytest.mark.parametrize("year", SPEC.years)
def test_indicators_equal_independent_numpy(pipeline_run, year):
    release_dir, table = pipeline_run
    X, countries, products = matrix(exports_from_csv(release_dir, year))
    rca = (X / X.sum(1, keepdims=True)) / (X.sum(0) / X.sum())
    M = (rca >= 1.0).astype(float)

    cpy = table("country_product_year").query("year == @year")
    ours = cpy.pivot_table(index="country_code", columns="product", values="rca", fill_value=0.0)
    ours = ours.reindex(index=countries, columns=products, fill_value=0.0)
    np.testing.assert_allclose(ours.to_numpy(), rca, rtol=1e-12, err_msg="RCA (rel 1e-12)")
    mcp = cpy.pivot_table(index="country_code", columns="product", values="mcp", fill_value=0)
    mcp = mcp.reindex(index=countries, columns=products, fill_value=0).to_numpy()
    assert (mcp == M).all(), "M must match exactly"

    keep_c, keep_p = M.sum(1) > 0, M.sum(0) > 0
    Ma = M[np.ix_(keep_c, keep_p)]
    F, Q = fitness_loop(Ma)
    cy = table("country_year").query("year == @year").set_index("country_code")
    np.testing.assert_allclose(
        cy.loc[countries[keep_c], "fitness"].to_numpy(),
        F,
        rtol=1e-9,
        atol=1e-300,
        err_msg="Fitness (rel 1e-9)",
    )
    py = table("product_year").query("year == @year").set_index("product")
    np.testing.assert_allclose(
        py.loc[products[keep_p], "complexity"].to_numpy(), Q, rtol=1e-9, err_msg="Complexity"
    )

    n_comp, labels = connected_components(
        np.block([[np.zeros((len(F), len(F))), Ma], [Ma.T, np.zeros((len(Q), len(Q)))]]),
        directed=False,
    )
    assert n_comp == 1, "the seeded year is connected, so ECI covers every active country"
    eci, pci = eci_stata(Ma)
    np.testing.assert_allclose(cy.loc[countries[keep_c], "eci"].to_numpy(), eci, atol=1e-9)
    np.testing.assert_allclose(py.loc[products[keep_p], "pci"].to_numpy(), pci, atol=1e-9)

    phi, density = proximity_and_density(Ma)
    prox = table("product_proximity").query("year == @year")
    ours_phi = prox.pivot_table(
        index="product_a", columns="product_b", values="proximity", fill_value=0.0
    )
    ours_phi = ours_phi.reindex(index=products[keep_p], columns=products[keep_p], fill_value=0.0)
    np.testing.assert_allclose(ours_phi.to_numpy(), phi, atol=1e-12, err_msg="proximity")
    dens = cpy.pivot_table(index="country_code", columns="product", values="density")
    dens = dens.reindex(index=countries[keep_c], columns=products[keep_p]).to_numpy()
    np.testing.assert_allclose(dens, density, atol=1e-12, err_msg="density")


def test_fitness_recovers_latent_capability(pipeline_run):
    release_dir, table = pipeline_run
    truth = pd.read_csv(release_dir / "latent_truth.csv")
    cy = table("country_year").dropna(subset=["fitness"])
    merged = cy.merge(truth, on=["year", "country_code"])
    for year, group in merged.groupby("year"):
        rho = spearmanr(group["log10_fitness"], group["capability"]).statistic
        assert rho > 0.9, f"{year}: Spearman(fitness, latent capability) = {rho:.3f} (> 0.9)"


def test_run_log_and_counts(pipeline_run):
    _, table = pipeline_run
    log = table("run_log")
    assert log["status"].tolist() == ["succeeded"]
    counts = log["row_counts"].iloc[0]
    counts = dict(counts) if not isinstance(counts, dict) else counts
    assert (
        counts["ingest.rows_read"]
        == counts["ingest.rows_accepted"] + counts["ingest.rows_quarantined"]
    )
    assert counts["indicators.country_year"] > 0
    convergence = table("fitness_convergence")
    assert set(convergence["year"]) == set(SPEC.years)
    assert (convergence["iterations"] <= MAX_ITERATIONS).all()


INDICATOR_KEYS = {
    "country_year": ["year", "country_code"],
    "product_year": ["year", "product"],
    "country_product_year": ["year", "country_code", "product"],
    "product_proximity": ["year", "product_a", "product_b"],
    "fitness_convergence": ["year"],
}


def test_arrow_and_spark_paths_give_the_same_indicator_tables(spark, pipeline_run, tmp_path):
    """The default run (a local warehouse: output.writer auto = arrow: the flows files read by
    DuckDB in yearly tasks, one pass whose tasks write the grid and proximity files) equals the
    Spark path (flows aggregated by Spark, one partition per year, three passes, Spark's Delta
    writer), table by table. The run log's row counts are those of the tables."""
    _, table = pipeline_run
    warehouse = str(tmp_path / "warehouse")
    shutil.copytree(table.warehouse, warehouse)
    overrides = [
        f'output.warehouse="{warehouse}"',
        'output.writer="spark"',
        f"fitness.max_iterations={MAX_ITERATIONS}",
    ]
    config = load_config(overrides=overrides)
    run = RunRecord("spark-writer", config)
    run_indicators(spark, config, run)
    counts = table("run_log")["row_counts"].iloc[0]
    counts = dict(counts) if not isinstance(counts, dict) else counts
    for name, keys in INDICATOR_KEYS.items():
        arrow = table(name).sort_values(keys, ignore_index=True)
        written = DeltaTable(delta.table_path(warehouse, name)).to_pandas()
        written = written.sort_values(keys, ignore_index=True)[arrow.columns]
        assert len(arrow) > 0, name
        pd.testing.assert_frame_equal(arrow, written, check_dtype=False, rtol=1e-9, obj=name)
        assert counts[f"indicators.{name}"] == len(arrow) == run.row_counts[f"indicators.{name}"]


def test_fitness_method_nhefc_end_to_end(spark, pipeline_run, tmp_path):
    """fitness.method = nhefc through the job's yearly tasks: the fitness column equals an
    independent loop of Servedio et al.'s map on M from the CSV files; the method is recorded."""
    release_dir, table = pipeline_run
    warehouse = str(tmp_path / "warehouse")
    shutil.copytree(table.warehouse, warehouse)
    delta_ = 1e-3
    config = load_config(
        overrides=[
            f'output.warehouse="{warehouse}"',
            'fitness.method="nhefc"',
            f"fitness.nhefc_delta={delta_}",
            "product_space.enabled=false",
        ]
    )
    run_indicators(spark, config, RunRecord("nhefc", config))
    year = SPEC.years[0]
    X, countries, _ = matrix(exports_from_csv(release_dir, year))
    M = ((X / X.sum(1, keepdims=True)) / (X.sum(0) / X.sum()) >= 1.0).astype(float)
    M = M[:, M.sum(0) > 0]
    F, P = np.ones(M.shape[0]), np.ones(M.shape[1])
    for _ in range(5000):
        F, P = delta_**2 + M @ (1 / P), 1 + M.T @ (1 / F)
    got = DeltaTable(delta.table_path(warehouse, "country_year")).to_pandas()
    got = got.query("year == @year").set_index("country_code").loc[countries, "fitness"]
    np.testing.assert_allclose(got.to_numpy(), F / F.mean(), rtol=1e-9)
    conv = DeltaTable(delta.table_path(warehouse, "fitness_convergence")).to_pandas()
    assert set(conv["method"]) == {"nhefc"}


def test_smoothing_window_end_to_end(spark, pipeline_run, tmp_path):
    """rca.smoothing_years = 2 with weights (2, 1) through the job: 2019's RCA from
    (2 X_2019 + X_2018) / 3 of the CSV files; 2018, whose window lacks 2017, from X_2018 alone."""
    release_dir, table = pipeline_run
    warehouse = str(tmp_path / "warehouse")
    shutil.copytree(table.warehouse, warehouse)
    config = load_config(
        overrides=[
            f'output.warehouse="{warehouse}"',
            "rca.smoothing_years=2",
            "rca.smoothing_weights=[2.0, 1.0]",
            "product_space.enabled=false",
        ]
    )
    run_indicators(spark, config, RunRecord("smoothing", config))
    grid = DeltaTable(delta.table_path(warehouse, "country_product_year")).to_pandas()

    def dense(year):
        X, countries, products = matrix(exports_from_csv(release_dir, year))
        return pd.DataFrame(X, index=countries, columns=products)

    x18, x19 = dense(2018), dense(2019)
    expected = {2018: x18, 2019: x19.mul(2).add(x18, fill_value=0.0).fillna(0.0) / 3}
    for year, X in expected.items():
        rca = X.div(X.sum(axis=1), axis=0) / (X.sum(axis=0) / X.to_numpy().sum())
        ours = grid[grid.year == year].pivot_table(
            index="country_code", columns="product", values="rca", fill_value=0.0
        )
        ours = ours.reindex(index=rca.index, columns=rca.columns, fill_value=0.0)
        np.testing.assert_allclose(ours.to_numpy(), rca.to_numpy(), rtol=1e-9, err_msg=str(year))
