"""The numbers behind figures 3.8-3.14 and the adjacent areas, against pandas on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.io.delta import read_table
from lib.report import analyses

Y0, Y1 = 2001, 2003


@pytest.fixture(scope="module")
def inputs(spark, tiny_warehouse):
    read = lambda name: read_table(spark, tiny_warehouse.path, name)  # noqa: E731
    return {
        "cy": read("country_year"),
        "py": read("product_year"),
        "cpy": read("country_product_year"),
        "names": analyses.country_names(read("baci_countries")),
        "frames": tiny_warehouse.frames,
    }


def test_country_trends_count_products_and_ranked_countries(inputs):
    got = analyses.country_trends(inputs["cy"], inputs["py"], [Y0, Y1]).toPandas()
    cy, py = inputs["frames"]["country_year"], inputs["frames"]["product_year"]
    assert sorted(got.year.unique()) == [Y0, Y1]
    for year in (Y0, Y1):
        rows = got[got.year == year]
        assert (rows.products_total == py[(py.year == year) & py.ubiquity.notna()].shape[0]).all()
        assert (rows.countries_ranked == cy[(cy.year == year) & cy.fitness.notna()].shape[0]).all()
    merged = got.merge(cy, on=["year", "country_code"], suffixes=("", "_in"))
    assert (merged.diversification == merged.diversification_in).all()
    np.testing.assert_allclose(merged.fitness, merged.fitness_in)


def test_products_gained_and_lost(inputs):
    got = analyses.products_change(inputs["cpy"], inputs["cy"], inputs["py"], Y0, Y1).toPandas()
    cpy = inputs["frames"]["country_product_year"]
    m0 = cpy[cpy.year == Y0].set_index(["country_code", "product"]).mcp
    m1 = cpy[cpy.year == Y1].set_index(["country_code", "product"]).mcp
    both = pd.concat([m0.rename("a"), m1.rename("b")], axis=1).fillna(0)
    expected = {(c, p, "gained" if r.b else "lost") for (c, p), r in both.iterrows() if r.a != r.b}
    assert set(zip(got.country_code, got["product"], got.change, strict=True)) == expected
    assert ((got.change == "gained") == (got.rca_to >= 1)).all()
    assert ((got.change == "lost") == (got.rca_from >= 1)).all()
    assert (got.year_from == Y0).all() and (got.year_to == Y1).all()
    assert set(got.iso3) <= {"GBR", "DEU", "FRA", "USA", "JPN", "CHN"}


def test_spectrograph_orders_every_product_by_complexity(inputs):
    got = analyses.spectrograph(
        inputs["cpy"], inputs["py"], inputs["names"], [826], [Y1]
    ).toPandas()
    py = inputs["frames"]["product_year"]
    cpy = inputs["frames"]["country_product_year"]
    ranked = py[(py.year == Y1) & py.complexity.notna()].sort_values(["complexity", "product"])
    got = got.sort_values("product_position")
    assert list(got["product"]) == list(ranked["product"])
    assert list(got.product_position) == list(range(1, len(ranked) + 1))
    exports = cpy[(cpy.year == Y1) & (cpy.country_code == 826)].set_index("product").export_value
    np.testing.assert_allclose(got.export_value, exports.reindex(got["product"]).fillna(0.0))
    assert (got.iso3 == "GBR").all() and (got.products_ranked == len(ranked)).all()


def test_nested_matrix_positions(inputs):
    got = analyses.nested_matrix(inputs["cpy"], inputs["cy"], inputs["py"], [Y1]).toPandas()
    cy, py = inputs["frames"]["country_year"], inputs["frames"]["product_year"]
    cpy = inputs["frames"]["country_product_year"]
    by_fitness = list(cy[cy.year == Y1].sort_values(["fitness", "country_code"]).country_code)
    by_complexity = list(py[py.year == Y1].sort_values(["complexity", "product"])["product"])
    for row in got.itertuples():
        assert by_fitness[row.country_position - 1] == row.country_code
        assert by_complexity[row.product_position - 1] == row.product
    ones = cpy[(cpy.year == Y1) & (cpy.mcp == 1)]
    assert len(got) == len(ones)


def test_adjacent_products_rankings(inputs):
    got = analyses.adjacent_products(
        inputs["cpy"], inputs["py"], inputs["names"], [826, 276], [Y1]
    ).toPandas()
    cpy = inputs["frames"]["country_product_year"]
    py = inputs["frames"]["product_year"].set_index(["year", "product"])
    for code in (826, 276):
        mine = got[got.country_code == code]
        candidates = cpy[(cpy.year == Y1) & (cpy.country_code == code) & (cpy.mcp == 0)]
        assert set(mine["product"]) == set(candidates["product"])
        by_density = list(
            candidates.sort_values(["density", "product"], ascending=[False, True])["product"]
        )
        assert list(mine.sort_values("density_rank")["product"]) == by_density
        by_cog = list(
            candidates.sort_values(["cog", "product"], ascending=[False, True])["product"]
        )
        assert list(mine.sort_values("cog_rank")["product"]) == by_cog
        complexity = mine["product"].map(lambda p: py.loc[(Y1, p), "complexity"])
        assert list(mine.sort_values("complexity_rank")["product"]) == list(
            mine.assign(c=complexity).sort_values(["c", "product"], ascending=[False, True])[
                "product"
            ]
        )
