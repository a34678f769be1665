"""Growth forecasts (SPS) of a real run against fermi-cref's ``SPS`` on the same states: the
Nadaraya-Watson estimate to 1e-9, the bootstrap within sampling error, the velocity baseline
(fermi's with delta = h + 1, see lib.prediction.growth); the backtest recomputed in pandas."""

from __future__ import annotations

import numpy as np
import pytest
from fermi.prediction_module import SPS

from tests.prediction.conftest import BOOTSTRAP, HORIZON, SIGMA, YEARS


@pytest.fixture(scope="module")
def growth(prediction_run):
    country = prediction_run.table("country_year")
    known = country[(country["fitness"] > 0) & (country["gdp_per_capita"] > 0)]
    dims = {
        "fitness": np.log(known.pivot(index="country_code", columns="year", values="fitness")),
        "gdp": np.log(known.pivot(index="country_code", columns="year", values="gdp_per_capita")),
    }
    return {
        "forecast": prediction_run.table("growth_forecast"),
        "backtest": prediction_run.table("growth_backtest"),
        "dims": dims,
    }


def test_nadaraya_watson_equals_fermi_sps(growth):
    sps = SPS(growth["dims"], delta_t=HORIZON, sigma=SIGMA)
    forecast = growth["forecast"].query("analogues > 0")
    assert len(forecast) > 50 and forecast["year"].min() == YEARS[0] + HORIZON
    assert growth["forecast"].query("analogues == 0")["year"].max() < YEARS[0] + HORIZON
    for row in forecast.itertuples():
        result = sps.predict_actor(row.country_code, row.year, method="nw").nw_actor.iloc[0]
        assert len(result["dX"]) == row.analogues
        np.testing.assert_allclose(
            [row.sps_fitness_change, row.sps_growth], result["nw_avg"], rtol=0, atol=1e-9
        )
        assert row.sps_growth_sd == pytest.approx(np.sqrt(result["nw_var"][1]), abs=1e-9)


def test_bootstrap_interval_agrees_with_fermi_within_sampling_error(growth):
    """fermi's bootstrap (2,000 samples): its mean lies in our 90 % interval (400 samples) but for a few skewed cases,
    and its sd matches the interval's width as a normal one would (1.645 sd each side) to 25 %."""
    sps = SPS(growth["dims"], delta_t=HORIZON, sigma=SIGMA, n_boot=2000, seed=1)
    forecast = growth["forecast"].query("analogues > 0").sample(n=30, random_state=0)
    inside, widths = 0, []
    for row in forecast.itertuples():
        result = sps.predict_actor(row.country_code, row.year, method="boot").boot_actor.iloc[0]
        mean, sd = result["boot_avg"][1], result["boot_var"][1]
        inside += row.sps_growth_low <= mean <= row.sps_growth_high
        widths.append((row.sps_growth_high - row.sps_growth_low) / (2 * 1.645 * sd))
    assert BOOTSTRAP == 400
    assert inside >= 0.9 * len(forecast)  # a 90 % interval of means holds their mean
    assert np.median(widths) == pytest.approx(1.0, rel=0.25)


def test_velocity_baseline_is_the_past_horizon_growth(growth):
    sps = SPS(growth["dims"], delta_t=HORIZON, sigma=SIGMA)
    forecast = growth["forecast"].dropna(subset=["velocity_growth"])
    assert forecast["year"].min() == YEARS[0] + HORIZON
    for row in forecast.sample(n=20, random_state=0).itertuples():
        sps.predict_actor_velocity(row.country_code, row.year, delta=HORIZON + 1)
        assert row.velocity_growth == pytest.approx(sps.vel_actor[1] * (HORIZON + 1), abs=1e-12)


def test_growth_backtest_is_the_forecasts_errors(growth):
    forecast, backtest = growth["forecast"], growth["backtest"]
    gdp = growth["dims"]["gdp"]
    assert set(backtest["method"]) == {"sps", "velocity", "no_change"}
    years = [t for t in YEARS if t + HORIZON in YEARS and t - HORIZON in YEARS]
    assert sorted(backtest.query("method == 'sps'")["train_year"]) == years
    for row in backtest.itertuples():
        rows = forecast[(forecast["year"] == row.train_year)].dropna(
            subset=["sps_growth", "velocity_growth"]
        )
        observed = (
            gdp[row.target_year].reindex(rows["country_code"]).to_numpy()
            - rows["log_gdp_per_capita"].to_numpy()
        )
        keep = np.isfinite(observed)
        column = {"sps": "sps_growth", "velocity": "velocity_growth"}.get(row.method)
        predicted = rows[column].to_numpy() if column else np.zeros(len(rows))
        error = (predicted - observed)[keep]
        assert row.countries == keep.sum() > 5
        assert row.mean_absolute_error == pytest.approx(np.abs(error).mean(), abs=1e-12)
        assert row.rmse == pytest.approx(np.sqrt((error**2).mean()), abs=1e-12)
        assert row.mean_error == pytest.approx(error.mean(), abs=1e-12)
