"""The prediction tables of a real run, checked against the reference implementations on the same
inputs: fermi-cref's ``ECPredictor`` (density) and ``ValidationMetrics``, scikit-learn's metrics
and classifiers; candidates and outcomes recomputed here in plain pandas from
``country_product_year``; and a leakage test (data after t perturbed: no score of t changes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fermi.prediction_module import ECPredictor
from fermi.validation_metrics import ValidationMetrics
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import average_precision_score, precision_score, roc_auc_score

from tests.prediction.conftest import (
    CUT,
    HORIZON,
    SEED,
    TREES,
    YEARS,
    K,
    job_args,
    perturbed_release,
)
from tests.shared_run import run_fitness_job

TOLERANCE = 1e-12


@pytest.fixture(scope="module")
def tables(prediction_run):
    grid = prediction_run.table("country_product_year")
    return {
        "grid": grid,
        "opportunities": prediction_run.table("product_opportunities"),
        "backtest": prediction_run.table("prediction_backtest"),
        "place": prediction_run.table("prediction_backtest_place"),
    }


def expected_candidates(grid: pd.DataFrame, year: int) -> pd.DataFrame:
    """The issue's definition, in pandas: both active at t, RCA at t below 0.25."""
    g = grid[grid["year"] == year]
    places = g.groupby("country_code")["mcp"].max()
    activities = g.groupby("product")["mcp"].max()
    active = g["country_code"].map(places).gt(0) & g["product"].map(activities).gt(0)
    return g[active & (g["rca"] < 0.25)][["country_code", "product"]]


def labelled(tables, method: str, year: int) -> pd.DataFrame:
    """The method's scores of ``year`` with M at year + h (0 where the pair is missing), in
    (place, activity) order."""
    grid, opp = tables["grid"], tables["opportunities"]
    scores = opp[(opp["method"] == method) & (opp["year"] == year)]
    later = grid[grid["year"] == year + HORIZON][["country_code", "product", "mcp"]]
    rows = scores.merge(later, on=["country_code", "product"], how="left")
    rows["present"] = rows["mcp"].fillna(0).astype(int)
    return rows.sort_values(["country_code", "product"]).reset_index(drop=True)


def test_candidates_are_the_pairs_not_yet_had(tables):
    opp = tables["opportunities"]
    for year in YEARS:
        ours = opp[(opp["method"] == "density") & (opp["year"] == year)]
        expected = expected_candidates(tables["grid"], year)
        assert len(expected) > 0
        assert set(zip(ours["country_code"], ours["product"], strict=True)) == set(
            zip(expected["country_code"], expected["product"], strict=True)
        )
    zero_exports = (
        tables["grid"].query("export_value == 0").merge(opp, on=["year", "country_code", "product"])
    )
    assert len(zero_exports) > 0  # zero-export pairs are candidates too


def test_density_scores_equal_fermi_predict_network(tables):
    """fermi-cref's network method with normalize=True is M B / (column sums of B), B the
    proximity (diagonal 0, as product_space.proximity_diagonal = 0); a column sum of 0 is
    replaced by 1 there (score 0), where our density is undefined and scored 0."""
    grid, opp = tables["grid"], tables["opportunities"]
    compared = 0
    for year in YEARS:
        g = grid[grid["year"] == year]
        M = g.pivot(index="country_code", columns="product", values="mcp").fillna(0).to_numpy()
        places = g.pivot(index="country_code", columns="product", values="mcp").index
        activities = g.pivot(index="country_code", columns="product", values="mcp").columns
        keep_c, keep_p = M.sum(axis=1) > 0, M.sum(axis=0) > 0
        M = M[np.ix_(keep_c, keep_p)]
        places, activities = places[keep_c], activities[keep_p]
        C = M.T @ M
        u = np.diag(C)
        phi = C / np.maximum.outer(u, u)
        np.fill_diagonal(phi, 0.0)
        reference = np.asarray(ECPredictor(M, normalize=True).predict_network(phi))
        expected = pd.DataFrame(reference, index=places, columns=activities).stack()
        ours = opp[(opp["method"] == "density") & (opp["year"] == year)].set_index(
            ["country_code", "product"]
        )["score"]
        np.testing.assert_allclose(ours, expected.reindex(ours.index), rtol=0, atol=TOLERANCE)
        compared += len(ours)
    assert compared > 5000


def test_ranks_within_the_place(tables):
    opp = tables["opportunities"]
    for (_, _, _), rows in opp.groupby(["year", "country_code", "method"]):
        ordered = rows.sort_values(["score", "product"], ascending=[False, True])
        assert ordered["rank"].tolist() == list(range(1, len(rows) + 1))


def test_backtest_metrics_equal_scikit_learn_and_fermi(tables):
    backtest = tables["backtest"]
    # Every year t with t + h in the data, for each method (the classifiers from the first
    # year with a training year, t - h).
    expected_years = {
        "density": [t for t in YEARS if t + HORIZON in YEARS],
        "bicm_density": [t for t in YEARS if t + HORIZON in YEARS],
        "random_forest": [t for t in YEARS if t + HORIZON in YEARS and t - HORIZON in YEARS],
    }
    for method, years in expected_years.items():
        assert sorted(backtest[backtest["method"] == method]["train_year"]) == years
    untied = 0
    for row in backtest.itertuples():
        rows = labelled(tables, row.method, row.train_year)
        y, s = rows["present"].to_numpy(), rows["score"].to_numpy()
        assert row.target_year == row.train_year + HORIZON and row.horizon == HORIZON
        assert (row.candidates, row.positives) == (len(rows), int(y.sum()))
        assert 0 < row.positives < row.candidates
        k = K * rows["country_code"].nunique()
        assert row.k == k
        metrics = ValidationMetrics(y, s)
        assert row.roc_auc == pytest.approx(roc_auc_score(y, s), abs=TOLERANCE)
        assert row.roc_auc == pytest.approx(metrics.roc_auc(), abs=TOLERANCE)
        assert row.pr_auc == pytest.approx(average_precision_score(y, s), abs=TOLERANCE)
        assert row.pr_auc == pytest.approx(metrics.pr_auc(), abs=TOLERANCE)
        # fermi adds 1e-12 to F1's denominator: its best F1 is below ours by < 1e-12.
        assert row.best_f1 == pytest.approx(metrics.best_f1()[1], abs=TOLERANCE)
        # precision@k and MAP@k depend on which tied scores make the top k: fermi's argsort
        # is not stable, so compare with it where the k-th and (k+1)-th scores differ, and
        # with scikit-learn on our order (ties by place, then product) everywhere.
        order = np.argsort(-s, kind="stable")
        assert row.precision_at_k == pytest.approx(
            precision_score(y[order][:k], np.ones(k), zero_division=0), abs=TOLERANCE
        )
        if s[order][k - 1] != s[order][k]:
            untied += 1
            assert row.precision_at_k == pytest.approx(metrics.precision_at_k(k), abs=TOLERANCE)
            assert row.map_at_k == pytest.approx(metrics.map_at_k(k), abs=TOLERANCE)
    # bicm_density scores 0 everywhere on this release (tests/prediction/test_bicm_density.py):
    # all tied.
    assert untied >= (backtest["method"] != "bicm_density").sum() // 2


def test_precision_at_k_per_place(tables):
    place = tables["place"]
    assert len(place) > 0
    for row in place.sample(n=min(40, len(place)), random_state=0).itertuples():
        rows = labelled(tables, row.method, row.train_year)
        mine = rows[rows["country_code"] == row.country_code]
        top = mine.sort_values(["score", "product"], ascending=[False, True]).head(K)
        assert (row.candidates, row.positives) == (len(mine), int(mine["present"].sum()))
        assert row.k == min(K, len(mine)) and row.hits == int(top["present"].sum())
        assert row.precision_at_k == pytest.approx(top["present"].mean(), abs=TOLERANCE)


def test_random_forest_equals_a_direct_scikit_learn_fit(tables):
    """Year t, product p: trained on the RCA rows of the active places at s <= t - h (in year,
    place order; the products seen by t as columns), label M at s + h; scored on the rows of t."""
    grid, opp = tables["grid"], tables["opportunities"]
    t = YEARS[-1]
    seen = sorted(grid[grid["year"] <= t]["product"].unique())
    rca = grid.pivot_table(index=["year", "country_code"], columns="product", values="rca")
    rca = rca.reindex(columns=seen).fillna(0.0)
    mcp = grid.pivot_table(index=["year", "country_code"], columns="product", values="mcp")
    mcp = mcp.reindex(columns=seen).fillna(0)
    active = mcp.sum(axis=1) > 0
    rf = opp[(opp["method"] == "random_forest") & (opp["year"] == t)]
    checked = 0
    for product in rf["product"].value_counts().index[:3]:
        train_index = [
            (s, c) for s, c in rca.index[active] if s + HORIZON <= t and s + HORIZON in YEARS
        ]
        X = rca.loc[train_index].to_numpy(dtype=np.float32)
        y = np.array([mcp[product].get((s + HORIZON, c), 0) for s, c in train_index], dtype=int)
        if y.min() == y.max():
            continue
        model = RandomForestClassifier(n_estimators=TREES, random_state=SEED, n_jobs=1).fit(X, y)
        test = rca.loc[t][active.loc[t].to_numpy()]
        expected = pd.Series(
            model.predict_proba(test.to_numpy(dtype=np.float32))[:, 1], index=test.index
        )
        ours = rf[rf["product"] == product].set_index("country_code")["score"]
        np.testing.assert_allclose(ours, expected.reindex(ours.index), rtol=0, atol=TOLERANCE)
        checked += 1
    assert checked >= 2


def test_no_score_of_year_t_uses_data_after_t(spark, prediction_run, tmp_path):
    """Leakage: the flows after CUT perturbed (values rescaled, rows dropped), the job rerun:
    every score and rank of the years up to CUT, and every backtest row whose target year is
    at most CUT, are unchanged; later ones did change (the perturbation bites)."""
    release = perturbed_release(prediction_run.release, tmp_path / "release", after=CUT)
    warehouse = str(tmp_path / "warehouse")
    run_fitness_job(spark, *job_args(release, warehouse, prediction_run.attributes))
    from deltalake import DeltaTable

    keys = ["method", "year", "country_code", "product"]
    before = prediction_run.table("product_opportunities").sort_values(keys)
    after = DeltaTable(f"{warehouse}/product_opportunities").to_pandas().sort_values(keys)
    early = [
        frame[frame["year"] <= CUT].reset_index(drop=True)[[*keys, "score", "rank"]]
        for frame in (before, after)
    ]
    assert set(early[0]["method"]) == {"density", "bicm_density", "random_forest"}
    pd.testing.assert_frame_equal(early[0], early[1], check_exact=True)
    late = [frame[frame["year"] > CUT].reset_index(drop=True) for frame in (before, after)]
    assert not late[0].equals(late[1])
    test_keys = ["method", "train_year"]
    backtests = [
        t[t["target_year"] <= CUT].sort_values(test_keys).reset_index(drop=True)
        for t in (
            prediction_run.table("prediction_backtest"),
            DeltaTable(f"{warehouse}/prediction_backtest").to_pandas(),
        )
    ]
    assert len(backtests[0]) >= 2
    pd.testing.assert_frame_equal(backtests[0], backtests[1], check_exact=True)
    # The growth forecasts of the years up to CUT are unchanged too.
    growth_keys = ["year", "country_code"]
    growth = [
        t[t["year"] <= CUT].sort_values(growth_keys).reset_index(drop=True)
        for t in (
            prediction_run.table("growth_forecast"),
            DeltaTable(f"{warehouse}/growth_forecast").to_pandas(),
        )
    ]
    assert growth[0]["sps_growth"].notna().sum() > 10
    pd.testing.assert_frame_equal(growth[0], growth[1], check_exact=True)
