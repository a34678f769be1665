"""Sector mappings (built-in and user files) and sector RCA against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.classifications.hs import hs_chapters
from lib.classifications.sectors import (
    SECTORS_DIR,
    UNMAPPED,
    SectorMappingError,
    load_sector_mapping,
    product_sectors,
    sector_exports,
    sector_rca,
)
from lib.io.delta import read_table
from lib.run.config import ProductsConfig, RcaConfig
from tests.conftest import data_path


def _reference(name: str) -> pd.DataFrame:
    return pd.read_csv(data_path("mappings", name), dtype=str, keep_default_na=False)


def test_hs_sections_agree_with_the_reference_and_our_chapter_table():
    mine = pd.read_csv(SECTORS_DIR / "hs_sections.csv", dtype=str)
    reference = _reference("hs2_sectors.csv")
    merged = mine.merge(reference, on="hs2", how="outer", indicator=True)
    # Every HS chapter 01-97 (no 77) in both; only the pseudo-chapter 99 is the reference's alone.
    assert set(merged[merged._merge != "both"].hs2) == {"99"}
    both = merged[merged._merge == "both"]
    assert len(both) == 96
    assert (both.sector_code == both.hs_section).all()

    def words(text: pd.Series) -> pd.Series:
        return text.str.lower().str.replace(r"[^a-z]+", " ", regex=True).str.strip()

    assert (words(both.description) == words(both.hs_section_name)).all()
    chapters = {row["hs2"]: row["section_roman"] for row in hs_chapters()}
    assert dict(zip(mine.hs2, mine.sector_code, strict=True)) == chapters
    assert load_sector_mapping("hs_sections").sectors[0] == "Animal products"
    assert len(load_sector_mapping("hs_sections").sectors) == 21


def test_goods15_maps_every_chapter_to_15_goods_sectors_plus_erratic_items():
    mapping = load_sector_mapping("goods15")
    assert set(mapping.rules.code) == {row["hs2"] for row in hs_chapters()}
    assert (mapping.rules.digits == 2).all()
    goods = [s for s in mapping.sectors if s != "Erratic items"]
    assert len(goods) == 15
    assert mapping.sector_of("300490") == "Pharmaceuticals"
    assert mapping.sector_of("880240") == "Aerospace"
    assert mapping.sector_of("870323") == "Transport equipment"
    assert mapping.sector_of("710812") == mapping.sector_of("970110") == "Erratic items"
    assert mapping.sector_of("9999AA") == UNMAPPED
    # goods15 refines the HS sections: no goods15 sector splits a chapter, and the sections it
    # splits are the ones the report names (VI: pharmaceuticals; XVI: machinery / electrical;
    # XVII: aerospace).
    sections = load_sector_mapping("hs_sections")
    split = {
        sections.sector_of(code + "0000")
        for code in mapping.rules.code
        if len({mapping.sector_of(c + "0000") for c in _same_section(sections, code)}) > 1
    }
    assert split == {"Chemical products", "Machinery and electrical", "Transport equipment"}


def _same_section(sections, chapter: str) -> list[str]:
    section = sections.sector_of(chapter + "0000")
    return [c for c in sections.rules.code if sections.sector_of(c + "0000") == section]


def test_reference_hs2_file_loads_as_a_user_mapping_with_a_chosen_column():
    path = data_path("mappings", "hs2_sectors.csv")
    with pytest.raises(SectorMappingError, match="several candidate sector columns"):
        load_sector_mapping(str(path))
    atlas = load_sector_mapping(str(path), "atlas_sector")
    assert atlas.scheme == "hs2_sectors.atlas_sector"
    assert len(atlas.sectors) == 10
    assert atlas.sector_of("870323") == "Vehicles"
    assert atlas.sector_of("854231") == "Electronics"
    sections = load_sector_mapping(str(path), "hs_section")
    assert sections.sector_of("999999") == UNMAPPED  # chapter 99 has no section: left unmapped
    ours = load_sector_mapping("hs_sections")
    for row in hs_chapters():
        code = row["hs2"] + "0000"
        assert sections.sector_of(code) == row["section_roman"]
        assert ours.sector_of(code) == ours.rules.set_index("code").sector[row["hs2"]]


def test_reference_hs6_file_falls_back_to_chapters_for_codes_it_lacks():
    path = data_path("mappings", "hs92_hs6_atlas_sectors.csv")
    hs6 = load_sector_mapping(str(path), "atlas_sector")
    assert set(hs6.rules.digits) == {6, 4, 2}
    assert hs6.sector_of("010111") == "Agriculture"
    # 710820 and 711890 are BACI codes missing from the Atlas list (SOURCE.md): chapter 71.
    assert hs6.sector_of("710820") == hs6.sector_of("711890") == "Stone"
    hs2 = load_sector_mapping(str(data_path("mappings", "hs2_sectors.csv")), "atlas_sector")
    reference = _reference("hs92_hs6_atlas_sectors.csv")
    sample = reference.sample(200, random_state=1)
    for code, sector in zip(sample.hs6, sample.atlas_sector, strict=True):
        assert hs6.sector_of(code) == sector == hs2.sector_of(code)


def test_bad_mapping_files_are_rejected(tmp_path):
    cases = {
        "no_key.csv": ("code,sector\n01,A\n", "needs a code column"),
        "short.csv": ("hs2,sector\n1,A\n", "leading zeros"),
        "twice.csv": ("hs4,sector\n0101,A\n0101,B\n", "several sectors"),
        "column.csv": ("hs2,group\n01,A\n", None),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        if message is None:
            assert load_sector_mapping(str(path)).sector_of("010100") == "A"
            with pytest.raises(SectorMappingError, match="no column 'sector'"):
                load_sector_mapping(str(path), "sector")
        else:
            with pytest.raises(SectorMappingError, match=message):
                load_sector_mapping(str(path))
    with pytest.raises(SectorMappingError, match="neither a built-in"):
        load_sector_mapping("goods14")


def _pandas_sector_rca(flows: pd.DataFrame, chapter_to_sector: dict[str, str]) -> pd.DataFrame:
    """Independent sector RCA: drop chapters 71/97 and 9999xx, map chapters, Balassa with zeros."""
    keep = ~flows["product"].str[:2].isin(["71", "97"]) & ~flows["product"].str.startswith("9999")
    data = flows[keep].assign(sector=lambda d: d["product"].str[:2].map(chapter_to_sector))
    rows = []
    for year, group in data.groupby("year"):
        X = group.pivot_table(
            index="exporter", columns="sector", values="value", aggfunc="sum", fill_value=0.0
        )
        share = X.div(X.sum(axis=1), axis=0)
        world = X.sum(axis=0) / X.to_numpy().sum()
        rca = share.div(world, axis=1)
        for country in X.index:
            for sector in X.columns:
                rows.append(
                    (
                        year,
                        country,
                        sector,
                        X.loc[country, sector],
                        share.loc[country, sector],
                        rca.loc[country, sector],
                    )
                )
    return pd.DataFrame(
        rows, columns=["year", "country_code", "sector", "export_value", "share", "rca"]
    )


def test_sector_rca_matches_pandas(spark, tiny_warehouse):
    flows = read_table(spark, tiny_warehouse.path, "baci_flows")
    mapping = load_sector_mapping("goods15")
    got = (
        sector_rca(sector_exports(flows, mapping, ProductsConfig()), "goods15", RcaConfig())
        .toPandas()
        .sort_values(["year", "country_code", "sector"])
        .reset_index(drop=True)
    )
    chapters = pd.read_csv(SECTORS_DIR / "goods15.csv", dtype=str)
    expected = (
        _pandas_sector_rca(
            tiny_warehouse.frames["baci_flows"],
            dict(zip(chapters.hs2, chapters.sector, strict=True)),
        )
        .sort_values(["year", "country_code", "sector"])
        .reset_index(drop=True)
    )
    assert len(got) == len(expected)
    assert (got.sector_scheme == "goods15").all() and (got.sector_kind == "goods").all()
    assert "Erratic items" not in set(got.sector)
    for column in ("export_value", "share", "rca"):
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-9)
    np.testing.assert_allclose(got.groupby(["year", "country_code"]).share.sum(), 1.0)
    assert (got.has_advantage == (expected.rca >= 1.0)).all()
    # The report's count: sectors with RCA >= 1 per country (UK 3 of 15 in the report).
    counts = got[got.year == 2003].groupby("country_code").has_advantage.sum()
    expected_counts = (
        expected[expected.year == 2003]
        .groupby("country_code")
        .rca.apply(lambda r: int((r >= 1).sum()))
    )
    assert counts.to_dict() == expected_counts.to_dict()


def test_erratic_items_get_a_sector_when_not_excluded(spark, tiny_warehouse):
    flows = read_table(spark, tiny_warehouse.path, "baci_flows")
    config = ProductsConfig(exclude_erratic=False)
    sectors = {
        r.sector for r in sector_exports(flows, load_sector_mapping("goods15"), config).collect()
    }
    assert "Erratic items" in sectors and UNMAPPED not in sectors


def test_spark_assignment_equals_the_python_rule(spark):
    path = data_path("mappings", "hs92_hs6_atlas_sectors.csv")
    mapping = load_sector_mapping(str(path), "atlas_sector")
    codes = ["010111", "710820", "711890", "870323", "999999", "9999AA", "271011", "880240"]
    products = spark.createDataFrame([(c,) for c in codes], "product string")
    got = {r["product"]: r["sector"] for r in product_sectors(products, mapping).collect()}
    assert got == {c: mapping.sector_of(c) for c in codes}
    # Not in the HS6 list: the chapter fallback applies (99 -> Other, as SOURCE.md advises).
    assert got["999999"] == "Other" and got["710820"] == "Stone"
