"""jobs/report.py end to end on the tiny warehouse: every figure file, one self-contained page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from deltalake import DeltaTable

from lib.tables import report as tables
from tests.report.job import run_job

EXPECTED_FIGURES = [
    "01_sector_rca",
    "02_sector_rca_change",
    "03_services_rca_trends",
    "04_goods_rca_trends",
    "05_goods_services_rca",
    "06_sector_rca_vs_DEU",
    "06_sector_rca_vs_FRA",
    "07_sectors_with_advantage",
    "08_export_split",
    "09_nested_matrix",
    "10_nestedness",
    "11_fitness_level",
    "12_fitness_rank",
    "13_spectrograph_GBR_2003",
    "13_spectrograph_GBR_2001",
    "13_spectrograph_DEU_2003",
    "13_spectrograph_FRA_2003",
    "14_diversification",
    "15_products_gained_lost",
    "16_where_to_go_next",
    "17_product_space",
    "18_export_treemap",
    "19_fitness_gdp",
]


def test_every_figure_is_written(report_out: Path):
    written = sorted(p.stem for p in report_out.glob("*.png"))
    assert written == sorted(EXPECTED_FIGURES)
    for path in report_out.glob("*.png"):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_product_space_files(report_out: Path, tiny_warehouse):
    """GraphML and GEXF of the year's product space, every product of the year a node, GBR's
    products with M = 1 flagged."""
    import xml.etree.ElementTree as ET

    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(report_out / "product_space_GBR_2003.graphml").getroot()
    flags = {
        n.get("id"): int(n.find("g:data[@key='rca_country']", ns).text)
        for n in root.findall(".//g:node", ns)
    }
    grid = tiny_warehouse.frames["country_product_year"]
    year = grid[grid.year == 2003]
    active = set(year[year.mcp == 1]["product"])
    assert set(flags) == active
    gbr = set(year[(year.country_code == 826) & (year.mcp == 1)]["product"])
    assert {p for p, f in flags.items() if f} == gbr
    assert (report_out / "product_space_GBR_2003.gexf").stat().st_size > 0


def test_page_is_self_contained(report_out: Path):
    page = (report_out / "report.html").read_text(encoding="utf-8")
    images = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(images) == len(EXPECTED_FIGURES)
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert "http://" not in page and "https://" not in page
    assert "United Kingdom" in page and "Germany" in page
    # CAN has no flows in the tiny data: left out with a note, not an error.
    assert "CAN has no exports" in page


def test_tables_are_readable_without_spark(report_out: Path, tiny_warehouse):
    for name in tables.REPORT_TABLES:
        frame = DeltaTable(f"{tiny_warehouse.path}/{name}").to_pandas()
        assert len(frame) > 0, name


def test_unknown_country_fails_before_spark_work(tiny_warehouse, tmp_path, monkeypatch):
    import lib.report.runner as runner

    def no_spark(*args, **kwargs):
        raise AssertionError("Spark work started")

    monkeypatch.setattr(runner, "run_report", no_spark)
    with pytest.raises(SystemExit, match="unknown country 'GBX'.*GBR"):
        run_job(["--country", "GBX", "--warehouse", tiny_warehouse.path, "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="not an ISO3"):
        run_job(["--country", "GB", "--warehouse", tiny_warehouse.path, "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="no indicators for the years asked"):
        run_job(["--years", "1990-1991", "--warehouse", tiny_warehouse.path])
    with pytest.raises(SystemExit, match="neither a built-in"):
        run_job(["--sectors", "nope.csv", "--warehouse", tiny_warehouse.path])


def test_goods_only_figure_set(report_out: Path, tiny_warehouse):
    """Without services rows the services figures are left out and the rest still draws."""
    from lib.report.frames import deltalake_reader, load_frames, resolve_params
    from lib.report.render import report_figures

    read = deltalake_reader(tiny_warehouse.path)
    params = resolve_params(read, "GBR", "DEU", [2001, 2002, 2003], "goods15")
    frames = load_frames(read, params)
    frames.sectors = frames.sectors[frames.sectors.sector_scheme == "goods15"]
    items = {item.name: item for item in report_figures(frames, params)}
    assert not {"03_services_rca_trends", "05_goods_services_rca", "08_export_split"} & set(items)
    assert all(item.figure is not None for item in items.values())
    bars = items["01_sector_rca"].figure.axes[0].patches
    gbr = frames.sectors[(frames.sectors.country_code == 826) & (frames.sectors.year == 2003)]
    assert sorted(round(b.get_width(), 9) for b in bars) == sorted(round(r, 9) for r in gbr.rca)


@pytest.mark.parametrize("kind", ["synthetic", "real"])
def test_page_and_figures_say_whether_the_data_are_synthetic(tiny_warehouse, kind):
    """A synthetic source: a banner on the page and a footer line on every figure; a real one:
    the page names CEPII BACI and its release, no banner, no footer."""
    from dataclasses import replace

    from lib.datasets.provenance import SYNTHETIC_BANNER, SYNTHETIC_NOTE, DataSource
    from lib.report.frames import deltalake_reader, load_frames, resolve_params
    from lib.report.html import report_html
    from lib.report.render import report_figures, summary_tables

    read = deltalake_reader(tiny_warehouse.path)
    params = resolve_params(read, "GBR", "DEU", [2001, 2002, 2003], "goods15")
    assert params.source == DataSource(("T1",), None)  # no run log: the kind is not known
    release = "SYNTH2401" if kind == "synthetic" else "V202401"
    params = replace(params, source=DataSource((release,), kind))
    frames = load_frames(read, params)
    figures = [item for item in report_figures(frames, params) if item.figure is not None]
    assert len(figures) >= 10
    for item in figures:
        footers = [t.get_text() for t in item.figure.texts if t.get_text() == SYNTHETIC_NOTE]
        assert footers == ([SYNTHETIC_NOTE] if kind == "synthetic" else []), item.name
    page = report_html(params, figures, summary_tables(frames, params), {})
    if kind == "synthetic":
        assert 'id="synthetic-data"' in page and SYNTHETIC_BANNER in page
        assert page.index(SYNTHETIC_BANNER) < page.index("<figure")
        assert "CEPII BACI SYNTH" not in page and "computed from a synthetic" in page
    else:
        assert SYNTHETIC_BANNER not in page and "synthetic-data" not in page
        assert "computed from CEPII BACI V202401." in page


def test_where_to_go_next(report_out: Path, tiny_warehouse):
    """The report country's top opportunities by method and each method's past precision@k
    for it (figure 16 and its tables) are the prediction tables' rows."""
    from lib.report.frames import deltalake_reader, load_frames, resolve_params
    from lib.report.render import report_figures, summary_tables

    read = deltalake_reader(tiny_warehouse.path)
    params = resolve_params(read, "GBR", "DEU", [2001, 2002, 2003], "goods15", adjacent_top=2)
    frames = load_frames(read, params)
    opp = tiny_warehouse.frames["product_opportunities"]
    mine = opp[(opp.country_code == 826) & (opp.year == 2003)]
    assert set(mine.method) == {"density", "bicm_density"} and len(mine) >= 6

    [figure] = [i for i in report_figures(frames, params) if i.name == "16_where_to_go_next"]
    top = mine[(mine.method == "density") & (mine["rank"] <= 10)].sort_values("rank")
    bars = figure.figure.axes[1].patches  # panels by method name: bicm_density, density
    assert [round(b.get_width(), 12) for b in bars][::-1] == [round(s, 12) for s in top.score]

    tables = dict(summary_tables(frames, params))
    [listed] = [t for title, t in tables.items() if "where to go next" in title]
    expected = mine[mine["rank"] <= 2].sort_values(["method", "rank"])
    assert list(listed["product"]) == list(expected["product"])
    assert list(listed["score"]) == list(expected["score"])
    [past] = [t for title, t in tables.items() if "past precision@k" in title]
    place = tiny_warehouse.frames["prediction_backtest_place"]
    place = place[place.country_code == 826]
    means = place.groupby("method")["precision_at_k"].mean()
    got = dict(zip(past["method"], past["precision_at_k"], strict=True))
    assert got["density (proximity)"] == pytest.approx(means["density"], abs=1e-12)
    assert past["years"].tolist() == [2, 2]  # 2001 and 2002 have t + 1 in the data


def test_fitness_gdp_plane_says_when_the_gdp_is_synthetic():
    """The embedded release's GDP per capita is synthetic: the plane's axis says so."""
    import pandas as pd

    from lib.report.countries import Country
    from lib.report.figures import fitness_gdp_plane

    rows = pd.DataFrame(
        {
            "year": [2019, 2020, 2020],
            "country_code": [826, 826, 276],
            "iso3": ["GBR", "GBR", "DEU"],
            "log_fitness": [0.5, 0.6, 0.8],
            "log_gdp": [4.5, 4.6, 4.7],
        }
    )
    countries = [Country(826, "GBR", "United Kingdom")]
    synthetic = fitness_gdp_plane(rows, countries, 2020, synthetic=True)
    real = fitness_gdp_plane(rows, countries, 2020)
    assert "SYNTHETIC GDP per capita" in synthetic.axes[0].get_xlabel()
    assert "SYNTHETIC" not in real.axes[0].get_xlabel()
