"""The BiCM-validated links and ``bicm_density`` against the reference implementations on the
same M: ``bicm`` 3.4.0's validated column projection (the links, their p-values) and
fermi-cref's ``ECPredictor`` (M B normalised, B the bicm projection's 0/1 matrix).

Two inputs: the R package's real trade through the prediction core (``lib.prediction.yearly``;
bicm validates 27 product links there), and a job run (product_space.projection = bicm) for
the tables' plumbing. The run's synthetic release has 25 countries: too few for any pair to
pass the FDR at 0.05 (4,800 tests), so there the links and scores are checked to be bicm's and
fermi's even though both are empty / zero.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import pytest
from bicm import BipartiteGraph
from fermi.prediction_module import ECPredictor

from lib.measures.year_rows import grid_rows
from lib.measures.yearly import YearSettings, year_indicators
from lib.prediction.yearly import year_tables
from tests.prediction.conftest import YEARS
from tests.reference_data import r_package_bicm, r_package_exports

ALPHA = 0.05  # product_space.bicm_alpha, the default
TOLERANCE = 1e-12


@pytest.fixture(scope="module")
def reference(prediction_run):
    """Per year: the active M of the grid (places x activities) and bicm's projection of it."""
    grid = prediction_run.table("country_product_year")
    out = {}
    for year in YEARS:
        g = grid[grid["year"] == year]
        M = g.pivot(index="country_code", columns="product", values="mcp").fillna(0)
        M = M.loc[M.sum(axis=1) > 0, M.sum(axis=0) > 0]
        graph = BipartiteGraph(biadjacency=M.to_numpy(dtype=int))
        with contextlib.redirect_stdout(io.StringIO()):
            graph.compute_projection(
                rows=False, alpha=ALPHA, threads_num=1, progress_bar=False, validation_method="fdr"
            )
        out[year] = (M, projection_matrix(graph, M.shape[1]), graph)
    return out


def test_links_equal_bicm(prediction_run, reference):
    links = prediction_run.table("product_bicm_links")
    total = 0
    for year, (M, B, graph) in reference.items():
        ours = links[links["year"] == year]
        products = M.columns.to_numpy()
        a, b = np.nonzero(B)
        expected = set(zip(products[a], products[b], strict=True))
        assert set(zip(ours["product_a"], ours["product_b"], strict=True)) == expected
        assert len(ours) == len(expected), "both orders, once each"
        index = {p: i for i, p in enumerate(products)}
        i, j = ours["product_a"].map(index).to_numpy(), ours["product_b"].map(index).to_numpy()
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        theirs = np.array([graph.cols_pvals[x][y] for x, y in zip(lo, hi, strict=True)])
        np.testing.assert_allclose(ours["p_value"], theirs, rtol=1e-6, atol=0)
        V = M.to_numpy().T @ M.to_numpy()
        np.testing.assert_array_equal(ours["cooccurrence"], V[i, j])
        total += len(expected)
    assert total == 0, "none expected on 25 countries (see the module docstring)"


def test_bicm_density_equals_fermi_predict_network(prediction_run, reference):
    """fermi-cref's network method (normalize=True) with B = bicm's validated projection:
    M B / (column sums of B, 0 replaced by 1): our bicm_density on every candidate."""
    opp = prediction_run.table("product_opportunities")
    compared = nonzero = 0
    for year, (M, B, _) in reference.items():
        scores = np.asarray(ECPredictor(M.to_numpy(dtype=float), normalize=True).predict_network(B))
        expected = pd.DataFrame(scores, index=M.index, columns=M.columns).stack()
        ours = opp[(opp["method"] == "bicm_density") & (opp["year"] == year)].set_index(
            ["country_code", "product"]
        )["score"]
        np.testing.assert_allclose(ours, expected.reindex(ours.index), rtol=0, atol=TOLERANCE)
        compared += len(ours)
        nonzero += int((ours > 0).sum())
    assert compared > 5000 and nonzero == 0


def projection_matrix(graph, n: int) -> np.ndarray:
    B = np.zeros((n, n))
    for a, neighbours in graph.projected_cols_adj_list.items():
        B[a, neighbours] = B[neighbours, a] = 1.0
    return B


def test_bicm_density_on_real_trade_equals_fermi_with_bicm_links():
    """The R package's trade (year 2000) through the yearly core and the prediction core: every
    candidate's bicm_density equals ECPredictor(M, normalize=True).predict_network(B), B the
    links bicm validates on the same M."""
    exports, codes = r_package_exports()
    ind = year_indicators(2000, exports, YearSettings())
    now = grid_rows(ind)
    reference_M, graph = r_package_bicm()
    names = {code: name for name, code in codes.items()}
    present = now[now["mcp"] > 0]
    M = pd.crosstab(present["country_code"].map(names), present["product"]).clip(upper=1)
    M.columns = M.columns.astype(object)
    pd.testing.assert_frame_equal(M, reference_M, check_names=False)  # the same M

    out = year_tables(2000, now, None, None, ("density", "bicm_density"), 0.25, 5, 10)
    ours = out["opportunities"].query("method == 'bicm_density'")
    B = projection_matrix(graph, M.shape[1])
    assert B.sum() == 2 * 27, "bicm validates 27 links on this M"
    scores = ECPredictor(M.to_numpy(dtype=float), normalize=True).predict_network(B)
    expected = pd.DataFrame(np.asarray(scores), index=M.index, columns=M.columns).stack()
    keys = list(zip(ours["country_code"].map(names), ours["product"], strict=True))
    np.testing.assert_allclose(ours["score"], expected.loc[keys], rtol=0, atol=TOLERANCE)
    assert (ours["score"] > 0).sum() > 100 and len(ours) > 100_000


def test_links_table_is_documented_and_reader_friendly(prediction_run):
    """Column comments and table comment from the data dictionary; reader version 1."""
    from deltalake import DeltaTable

    from lib.tables import TABLES

    table = DeltaTable(f"{prediction_run.warehouse}/product_bicm_links")
    comments = {field.name: field.metadata.get("comment") for field in table.schema().fields}
    declared = TABLES["product_bicm_links"]
    assert comments == {c.name: c.comment for c in declared.columns}
    assert table.metadata().description == declared.comment
    assert table.protocol().min_reader_version == 1
