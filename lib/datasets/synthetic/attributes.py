"""The synthetic release's country attributes: a SYNTHETIC GDP per capita series per country and
year, so that the default job shows the growth forecasts (SPS) that need one.

Model. Each country starts from its real level: the World Bank's GDP per capita, mean
1998-2000, constant 2000 USD (``lib/data/gdp_per_capita_1998_2000.csv``; for the few countries
without one, the level a log-linear fit on the capability anchors gives). From 1999 its log
grows each year by ``GDP_TREND`` (real growth per person) plus ``GDP_CATCH_UP`` times the gap
between the income its capability predicts (the same fit, moving with the country's latent
capability) and its income, plus a persistent shock (``GDP_SHOCK_SD``, AR(1) with
``GDP_SHOCK_PERSISTENCE``). So a country whose capabilities run ahead of its income grows
faster: the regularity in the (fitness, GDP per capita) plane that the SPS forecast exploits
(Tacchella, Mazzilli and Pietronero 2018). Values are in current USD (prices rising by
``GDP_PRICE_GROWTH`` a year from 2000). Population is left empty (unknown).

Pure numpy from the world and its seed (stream ``_STREAM_GDP``); writes nothing. Must not be
mistaken for real data: the file it feeds is named ``synthetic_country_attributes.csv`` and the
pipeline labels its use synthetic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lib.datasets.synthetic.catalogue import (
    _STREAM_GDP,
    GDP_BASE_YEAR,
    GDP_CATCH_UP,
    GDP_PRICE_GROWTH,
    GDP_SHOCK_PERSISTENCE,
    GDP_SHOCK_SD,
    GDP_TREND,
    _data_rows,
    _rng,
)
from lib.datasets.synthetic.world import World, country_state


def real_gdp_anchor() -> dict[str, float]:
    """ISO3 -> the World Bank's GDP per capita, mean 1998-2000, constant 2000 USD."""
    return {
        r["iso3"]: float(r["gdp_per_capita_usd2000"])
        for r in _data_rows("gdp_per_capita_1998_2000.csv")
    }


def _income_fit(capability: np.ndarray, log_gdp: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) of ln GDP per capita on capability (least squares, known levels)."""
    known = np.isfinite(log_gdp)
    slope, intercept = np.polyfit(capability[known], log_gdp[known], 1)
    return float(intercept), float(slope)


def gdp_per_capita(world: World, years: Sequence[int]) -> np.ndarray:
    """Country x year SYNTHETIC GDP per capita (current USD) of ``world.countries`` in ``years``
    (each year's value is the same whichever years are asked for)."""
    anchor = real_gdp_anchor()
    wanted = sorted(set(years))
    first = min(GDP_BASE_YEAR, wanted[0])
    capability = {y: country_state(world, y)[0] for y in range(first, wanted[-1] + 1)}
    log_gdp = np.log([anchor.get(c.iso3, np.nan) for c in world.countries])
    intercept, slope = _income_fit(capability[GDP_BASE_YEAR], log_gdp)
    log_gdp = np.where(np.isfinite(log_gdp), log_gdp, intercept + slope * capability[GDP_BASE_YEAR])
    n = len(world.countries)
    shock = np.zeros(n)
    out = {}
    if first < GDP_BASE_YEAR:  # before the anchor: the trend only, backwards
        for y in range(first, GDP_BASE_YEAR):
            out[y] = log_gdp - GDP_TREND * (GDP_BASE_YEAR - y)
    out[GDP_BASE_YEAR] = log_gdp.copy()
    for y in range(GDP_BASE_YEAR + 1, wanted[-1] + 1):
        shock = GDP_SHOCK_PERSISTENCE * shock + _rng(world.seed, _STREAM_GDP, y).normal(
            0, GDP_SHOCK_SD, n
        )
        gap = intercept + slope * capability[y] - log_gdp
        log_gdp = log_gdp + GDP_TREND + GDP_CATCH_UP * gap + shock
        out[y] = log_gdp
    prices = {y: GDP_PRICE_GROWTH * (y - 2000) for y in wanted}
    return np.stack([np.exp(out[y] + prices[y]) for y in wanted], axis=1)


def attribute_rows(world: World, years: Sequence[int]) -> list[tuple[str, int, str, str]]:
    """Rows ``country, year, population, gdp_per_capita`` (the pipeline's country attributes
    format, docs/configuration.md): BACI country codes (ISO3 codes are not unique in BACI's
    list), population empty, GDP per capita rounded to 0.1 USD."""
    wanted = sorted(set(years))
    values = gdp_per_capita(world, wanted)
    return [
        (str(country.code), year, "", f"{values[i, j]:.1f}")
        for i, country in enumerate(world.countries)
        for j, year in enumerate(wanted)
    ]
