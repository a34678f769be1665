"""The services file: format checks, and goods + services RCA against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.classifications.sectors import load_sector_mapping, sector_exports, sector_rca
from lib.io.delta import read_table
from lib.report import services as sv
from lib.run.config import CONF_DIR, ProductsConfig, RcaConfig


def test_example_file_is_valid_and_labelled_illustrative():
    path = CONF_DIR / "services_example.csv"
    assert "ILLUSTRATIVE" in path.read_text().splitlines()[0]
    frame = sv.read_services_csv(path)
    assert list(frame.columns) == list(sv.COLUMNS)
    assert {"GBR", "DEU", "FRA", "ITA", "USA", "JPN", "CAN"} <= set(frame.country)
    assert frame.year.min() <= 1995 and frame.year.max() >= 2020


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("country,year,value\nGBR,2001,1\n", "missing column"),
        ("country,year,category,value\nGBR,2001,Travel,x\n", "'value' is not a number"),
        ("country,year,category,value\nGBR,2001,Travel,-1\n", "negative"),
        ("country,year,category,value\nGBR,2001,Travel,1\ngbr,2001,Travel,2\n", "more than once"),
    ],
)
def test_bad_services_files(tmp_path, text, message):
    path = tmp_path / "s.csv"
    path.write_text(text)
    with pytest.raises(sv.ServicesFileError, match=message):
        sv.read_services_csv(path)


def test_unknown_countries_are_dropped_and_reported():
    services = pd.DataFrame(
        {"country": ["GBR", "XXX"], "year": [2001, 2001], "category": ["T", "T"], "value": [1, 2]}
    )
    countries = pd.DataFrame({"country_code": [826], "iso3": ["GBR"], "country_name": ["UK"]})
    kept, unknown = sv.services_with_codes(services, countries)
    assert unknown == ["XXX"] and list(kept.country_code) == [826]


def test_goods_and_services_rca_match_pandas(spark, tiny_warehouse):
    services = pd.DataFrame(
        {
            "country": ["GBR", "GBR", "DEU", "DEU", "FRA"],
            "year": [2002] * 5,
            "category": ["Financial", "Travel", "Financial", "Travel", "Travel"],
            "value": [9000.0, 3000.0, 2000.0, 4000.0, 5000.0],
        }
    )
    countries = tiny_warehouse.frames["baci_countries"]
    services, _ = sv.services_with_codes(services, countries)
    flows = read_table(spark, tiny_warehouse.path, "baci_flows").where("year = 2002")
    goods = sector_exports(flows, load_sector_mapping("hs_sections"), ProductsConfig())
    combined = sv.combined_exports(goods, sv.services_exports(spark, services))
    got = sector_rca(combined, "hs_sections+services", RcaConfig()).toPandas()
    totals = sector_rca(
        sv.goods_services_totals(combined), "goods_services", RcaConfig()
    ).toPandas()

    # Independent: goods by section for the three reporting countries, plus services rows.
    g = goods.toPandas()
    g = g[g.country_code.isin([826, 276, 251])]
    rows = pd.concat(
        [
            g.assign(kind="goods"),
            services.rename(columns={"category": "sector", "value": "export_value"}).assign(
                kind="services"
            ),
        ]
    )
    X = rows.pivot_table(
        index="country_code", columns="sector", values="export_value", aggfunc="sum", fill_value=0
    )
    rca = X.div(X.sum(1), axis=0).div(X.sum(0) / X.to_numpy().sum(), axis=1)
    assert set(got.country_code) == {826, 276, 251}  # only countries that report services
    for row in got.itertuples():
        assert np.isclose(row.rca, rca.loc[row.country_code, row.sector])
    assert set(got[got.sector_kind == "services"].sector) == {"Financial", "Travel"}

    kinds = rows.assign(sector=np.where(rows.kind == "goods", "Goods", "Services"))
    K = kinds.pivot_table(
        index="country_code", columns="sector", values="export_value", aggfunc="sum"
    )
    share = K.div(K.sum(1), axis=0)
    for row in totals.itertuples():
        assert np.isclose(row.share, share.loc[row.country_code, row.sector])
