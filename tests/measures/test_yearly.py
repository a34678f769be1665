"""lib.measures.yearly (every indicator of a year in one task) against plain numpy, without Spark:
thresholds, RCA and M; rows of dropped countries and products; the Atlas two-step; RPOP.
The grid and the proximity rows: ``test_year_rows``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.io.country_attributes import CountryAttributes
from lib.measures.eci import eci_pci_matrix
from lib.measures.fitness import fitness_complexity_matrix
from lib.measures.yearly import YearSettings, summary_tables, year_indicators, year_presence
from tests.conftest import data_path
from tests.measures.test_year_rows import year_grid
from tests.reference_data import CID_DIR, stata_fixture_trade


def year_summary(year, rows, settings):
    return summary_tables(year_indicators(year, rows, settings), settings)


def test_presence_matches_plain_rca_with_thresholds(rows):
    settings = YearSettings(min_country_export=1.0, min_product_export=50.0, rca_strict=True)
    yp = year_presence(rows, settings)
    X = rows.pivot(index="country_code", columns="product", values="export_value").fillna(0)
    total, world = X.sum(axis=1), X.sum(axis=0)
    keep = (X > 0) & (total >= 1.0).to_numpy()[:, None] & (world >= 50.0).to_numpy()[None, :]
    kept = X.where(keep, 0.0).loc[keep.any(axis=1), keep.any(axis=0)]
    rca = (kept.div(kept.sum(axis=1), axis=0)) / (kept.sum(axis=0) / kept.to_numpy().sum())
    np.testing.assert_allclose(yp.rca, rca.to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(yp.M, (rca.to_numpy() > 1.0).astype(float))
    assert not yp.kept_countries[0]  # the tiny exporter


def test_summary_rows_cover_every_exporter_and_match_the_cores(rows):
    settings = YearSettings(min_country_export=1.0)
    tables = year_summary(2001, rows, settings)
    yp = year_presence(rows, settings)
    country, product = tables["country"], tables["product"]
    assert len(country) == rows["country_code"].nunique()
    assert len(product) == rows["product"].nunique()
    dropped = country[country["country_code"] == 100].iloc[0]
    assert pd.isna(dropped["fitness"]) and pd.isna(dropped["diversification"])
    assert dropped["export_value"] == pytest.approx(
        rows.loc[rows.country_code == 100, "export_value"].sum()
    )
    fit = fitness_complexity_matrix(yp.M, 200, 1e-12)
    np.testing.assert_allclose(country["fitness"].to_numpy()[1:], fit.fitness, rtol=1e-12)
    eci = eci_pci_matrix(yp.M)
    np.testing.assert_allclose(country["eci"].to_numpy()[1:], eci.eci, rtol=1e-12)
    assert tables["convergence"]["iterations"].iloc[0] == fit.iterations


# --- the Atlas two-step (eci.two_step) ----------------------------------------------------


def _stata_eci(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Independent: 2nd eigenvector of D^-1 M U^-1 M' (numpy's general eig), sign by
    diversity, Stata's scale (sd over the C x P rows); PCI on ECI's scale."""
    d, u = M.sum(1), M.sum(0)
    values, vectors = np.linalg.eig((M / d[:, None] / u[None, :]) @ M.T)
    order = np.argsort(-values.real)
    e = vectors[:, order[1]].real
    e = e if np.corrcoef(e, d)[0, 1] > 0 else -e
    mean, sd = e.mean(), np.sqrt(((e - e.mean()) ** 2).sum() * M.shape[1] / (M.size - 1))
    return (e - mean) / sd, ((M.T @ e) / u / values.real[order[1]] - mean) / sd


def _rca_m(X: np.ndarray, strict: bool) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        rca = np.nan_to_num((X / X.sum(1, keepdims=True)) / (X.sum(0) / X.sum()))
    return ((rca > 1) if strict else (rca >= 1)).astype(float)


def test_two_step_equals_independent_numpy():
    """Core = countries with exports >= 40 and products with world trade >= 150 (the size rules);
    PCI and the core's ECI from the core alone; every other exporter's ECI = mean PCI of the core
    products it has, M from the RCA among all exporters over the core products."""
    rng = np.random.default_rng(3)
    X = rng.lognormal(2, 1.5, (25, 40)) * (rng.random((25, 40)) < 0.55)
    X[:4] /= 50  # four small exporters, out of the core
    X[:, :3] /= 80  # three small products, out of the core
    c, p = np.nonzero(X)
    rows = pd.DataFrame(
        {"country_code": c + 1, "product": [f"{k:04d}" for k in p], "export_value": X[c, p]}
    )
    settings = YearSettings(
        min_country_export=40.0, min_product_export=150.0, two_step=True, rca_strict=True
    )
    tables = year_summary(2001, rows, settings)
    country = tables["country"].set_index("country_code").sort_index()
    product = tables["product"].set_index("product").sort_index()

    core_c, core_p = X.sum(1) >= 40, X.sum(0) >= 150
    assert core_c.sum() < 25 and core_p.sum() < 40
    assert (country["in_core"].to_numpy() == core_c).all()
    assert (product["in_core"].to_numpy() == core_p).all()
    M_core = _rca_m(X[np.ix_(core_c, core_p)], strict=True)
    assert (M_core.sum(0) > 0).all() and (M_core.sum(1) > 0).all()
    eci, pci = _stata_eci(M_core)
    np.testing.assert_allclose(country["eci"].to_numpy()[core_c], eci, atol=1e-9)
    np.testing.assert_allclose(product["pci"].to_numpy()[core_p], pci, atol=1e-9)
    M_all = _rca_m(X[:, core_p], strict=True)
    outside = ~core_c & (M_all.sum(1) > 0)
    assert outside.sum() >= 3
    expected = (M_all @ pci) / M_all.sum(1)
    np.testing.assert_allclose(country["eci"].to_numpy()[outside], expected[outside], atol=1e-9)
    np.testing.assert_allclose(
        country["mean_product_complexity"].to_numpy()[outside], expected[outside], atol=1e-9
    )
    assert country["fitness"].isna().to_numpy()[~core_c].all()  # Fitness stays on the core
    # without the two-step the small exporters get no ECI
    plain = year_summary(
        2001, rows, YearSettings(min_country_export=40.0, min_product_export=150.0)
    )
    assert (
        plain["country"]
        .set_index("country_code")
        .sort_index()["eci"]
        .isna()
        .to_numpy()[~core_c]
        .all()
    )


def test_two_step_core_matches_stata_fixture():
    """The Growth Lab's Stata fixture (10 countries x 30 HS4 products, real Atlas data) as the
    core, with three small territories added below a $100 million floor (the smallest fixture
    country exports $650 million): the core's ECI and PCI
    are Stata's, and each territory's ECI is the mean Stata PCI of the products it has."""
    trade = stata_fixture_trade()
    stata_c = pd.read_csv(data_path(*CID_DIR, "stata_ground_truth_country.csv"))
    stata_p = pd.read_csv(
        data_path(*CID_DIR, "stata_ground_truth_product.csv"), dtype={"hs92": str}
    )
    codes = {c: i for i, c in enumerate(sorted(trade["origin"].unique()))}
    rng = np.random.default_rng(0)
    products = sorted(trade["hs92"].unique())
    for year in (1995, 1996):
        t = trade[trade["year"] == year]
        rows = pd.DataFrame(
            {
                "country_code": t["origin"].map(codes),
                "product": t["hs92"],
                "export_value": t["export_val"],
            }
        )
        territories = pd.DataFrame(
            {
                "country_code": np.repeat([900, 901, 902], 6),
                "product": rng.choice(products, 18),
                "export_value": rng.uniform(1e5, 1e6, 18),
            }
        ).drop_duplicates(["country_code", "product"])
        rows = pd.concat([rows, territories], ignore_index=True)
        settings = YearSettings(min_country_export=1e8, two_step=True)
        tables = year_summary(year, rows, settings)
        country = tables["country"].set_index("country_code")
        ref = stata_c[stata_c["year"] == year]
        ref = ref.set_index(ref["origin"].map(codes))
        np.testing.assert_allclose(country.loc[ref.index, "eci"], ref["eci"], atol=1e-6)
        assert country.loc[ref.index, "in_core"].all()
        assert not country.loc[[900, 901, 902], "in_core"].any()
        pci = stata_p[stata_p["year"] == year].set_index("hs92")["pci"]
        product = tables["product"].set_index("product")
        np.testing.assert_allclose(product.loc[pci.index, "pci"], pci, atol=1e-6)
        # territories: M from the RCA among all 13 exporters over the 30 products
        X = rows.pivot_table(
            index="country_code", columns="product", values="export_value", fill_value=0.0
        )
        M = pd.DataFrame(_rca_m(X.to_numpy(), strict=False), index=X.index, columns=X.columns)
        for code in (900, 901, 902):
            has = M.columns[M.loc[code] == 1]
            assert country.loc[code, "eci"] == pytest.approx(pci.loc[has].mean(), abs=1e-6)


# --- country attributes: RPOP, the combined test, the population floor ---------------------


@pytest.mark.parametrize("test", ["rca", "rpop", "both"])
def test_rpop_presence_and_population_floor(rows, test):
    """RPOP_cp = (X_cp / pop_c) / (sum_c X_cp / sum_c pop_c) over the countries with a known
    population; M by RCA, by RPOP or by either (Stata ecomplexity's rca / rpop / both); a
    country under countries.min_population leaves the core, one without a population stays."""
    codes = np.sort(rows["country_code"].unique())
    rng = np.random.default_rng(5)
    population = rng.uniform(1e5, 1e8, codes.size)
    population[3] = np.nan  # unknown: kept, no RPOP
    population[5] = 5e4  # under the floor
    attributes = CountryAttributes(
        pd.DataFrame(
            {"year": 2001, "country_code": codes, "population": population, "gdp_per_capita": 1.0}
        )
    )
    settings = YearSettings(
        min_population=1e5, presence_test=test, rpop_threshold=1.0, attributes=attributes
    )
    grid = year_grid(2001, rows, settings)
    tables = year_summary(2001, rows, settings)
    in_core = tables["country"].set_index("country_code")["in_core"]
    assert not in_core.loc[codes[5]] and in_core.loc[codes[3]]

    X = rows.pivot(index="country_code", columns="product", values="export_value").fillna(0)
    X = X.drop(index=codes[5])
    pop = pd.Series(population, index=codes).drop(codes[5])
    known = pop.notna()
    rpop = (X.div(pop, axis=0)) / (X[known].sum() / pop[known].sum())
    rca = X.div(X.sum(axis=1), axis=0) / (X.sum() / X.to_numpy().sum())
    by_rca, by_rpop = rca >= 1, rpop.fillna(0) >= 1
    M = {"rca": by_rca, "rpop": by_rpop, "both": by_rca | by_rpop}[test] & (X > 0)
    got = grid.pivot(index="country_code", columns="product", values="rpop")
    got = got.reindex(index=X.index, columns=X.columns)
    np.testing.assert_allclose(got.to_numpy(), rpop.to_numpy(), rtol=1e-12)
    mcp = grid.pivot(index="country_code", columns="product", values="mcp")
    assert (mcp.reindex(index=X.index, columns=X.columns).to_numpy() == M.to_numpy()).all()
    assert M.to_numpy().sum() > 0
