"""PRODY and EXPY (lib.measures.productivity) through the yearly core, on the R package's real trade
and GDP per capita of 1998-2000, against an independent pandas computation; and a hand case.

EconGeo's documented examples (prody, expy) print no values: they draw a random matrix with R's
random number generator, so there is nothing published to compare with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.io.country_attributes import CountryAttributes
from lib.measures.productivity import prody_expy
from lib.measures.yearly import YearSettings
from tests.conftest import data_path
from tests.measures.test_nhefc import r_package_rows
from tests.measures.test_yearly import year_summary
from tests.reference_data import R_DIR


def test_hand_case():
    """Two countries: A exports 3 of p and 1 of q (Y = 10), B 1 of q only (Y = 40).
    Shares: A (3/4, 1/4), B (0, 1). PRODY_p = 10; PRODY_q = (1/4 * 10 + 1 * 40) / (5/4) = 34.
    EXPY_A = 3/4 * 10 + 1/4 * 34 = 16, EXPY_B = 34. Unknown Y: B leaves PRODY, q has only A."""
    prody, expy = prody_expy(np.array([[3.0, 1.0], [0.0, 1.0]]), np.array([10.0, 40.0]))
    np.testing.assert_allclose(prody, [10, 34])
    np.testing.assert_allclose(expy, [16, 34])
    prody, expy = prody_expy(np.array([[3.0, 1.0], [0.0, 1.0]]), np.array([10.0, np.nan]))
    np.testing.assert_allclose(prody, [10, 10])
    np.testing.assert_allclose(expy, [10, 10])
    prody, expy = prody_expy(np.array([[3.0, 0.0], [0.0, 1.0]]), np.array([10.0, np.nan]))
    assert np.isnan(prody[1]) and np.isnan(expy[1]) and expy[0] == pytest.approx(10)


def test_r_package_real_gdp_and_trade():
    """226 countries x 785 SITC products (world trade 1998-2000) with the World Bank GDP per
    capita the R package ships (185 of the 226 countries have one): PRODY and EXPY equal an
    independent pandas computation to 1e-10 (relative)."""
    rows, codes = r_package_rows()
    gdp = pd.read_csv(data_path(*R_DIR, "world_gdp_avg_1998_to_2000.csv"))
    gdp = gdp[gdp["country"].isin(codes)]
    attributes = CountryAttributes(
        pd.DataFrame(
            {
                "year": 2000,
                "country_code": gdp["country"].map(codes),
                "population": np.nan,
                "gdp_per_capita": gdp["value"].astype(float),
            }
        )
    )
    tables = year_summary(2000, rows, YearSettings(attributes=attributes))

    # independent: long rows, groupby sums
    df = rows.assign(
        share=rows.export_value / rows.groupby("country_code").export_value.transform("sum")
    )
    y = gdp.set_index(gdp["country"].map(codes))["value"]
    with_y = df[df.country_code.isin(y.index)].assign(y=lambda d: d.country_code.map(y))
    prody = (with_y.share * with_y.y).groupby(with_y["product"]).sum() / with_y.groupby(
        "product"
    ).share.sum()
    df = df.assign(prody=df["product"].map(prody))
    expy = (df.share * df.prody).groupby(df.country_code).sum() / df.dropna(
        subset=["prody"]
    ).groupby("country_code").share.sum()

    product = tables["product"].set_index("product")
    country = tables["country"].set_index("country_code")
    assert len(y) == 185 and product["prody"].notna().all()
    np.testing.assert_allclose(product.loc[prody.index, "prody"], prody, rtol=1e-10)
    np.testing.assert_allclose(country.loc[expy.index, "expy"], expy, rtol=1e-10)
    np.testing.assert_allclose(country.loc[y.index, "gdp_per_capita"], y)
    # the rich export the high-PRODY goods: EXPY rises with income (HHR 2007, figure 1)
    corr = np.corrcoef(np.log(country.loc[y.index, "expy"]), np.log(y))[0, 1]
    assert corr > 0.6, corr
