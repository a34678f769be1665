"""The figure set and the summary tables of one country report, in the report's order.

Shared by ``jobs/report.py`` (PNG files + HTML page) and the notebook (inline), so both show the
same figures. Each entry has a fixed file name (tests and links rely on it), a title and a short
caption saying how to read the figure; an entry whose data are missing is kept with the reason.

Must not read tables: it is given frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from lib.classifications.sectors import SectorMapping, load_sector_mapping
from lib.datasets.provenance import SYNTHETIC_NOTE
from lib.report import figures as fg
from lib.report.figures.opportunities import METHOD_LABELS, where_to_go_next
from lib.report.frames import GOODS_SERVICES_SCHEME, ReportFrames, ReportParams
from lib.report.product_space_figure import product_space_plot
from lib.report.product_space_report import (
    export_basket,
    fitness_gdp_rows,
    report_product_space,
)
from lib.report.treemap import export_treemap, sector_colours


@dataclass(frozen=True)
class ReportFigure:
    name: str  # file stem
    title: str
    caption: str
    figure: Figure | None

    @property
    def file_name(self) -> str:
        return f"{self.name}.png"

    @cached_property
    def png(self) -> bytes | None:
        """Rendered once: the PNG file and the HTML page embed the same bytes."""
        return None if self.figure is None else fg.figure_png(self.figure)


def main_scheme(frames: ReportFrames, params: ReportParams) -> str:
    """Goods + services when a services file was given (as the report's figures 3.1-3.6)."""
    return params.services_scheme if frames.has_services else params.sector_scheme


def report_figures(
    frames: ReportFrames,
    params: ReportParams,
    mapping: SectorMapping | None = None,
    graph=None,
) -> Iterator[ReportFigure]:
    """The report's figures; each says "synthetic data: ..." at its foot when the data are.
    ``mapping`` colours the product space and the treemap (default: the HS sections);
    ``graph``: the product space already made (``report_product_space``)."""
    for item in _figures(frames, params, mapping, graph):
        if item.figure is not None and params.source.synthetic:
            fg.add_footer(item.figure, SYNTHETIC_NOTE)
        yield item


def _figures(
    frames: ReportFrames, params: ReportParams, mapping: SectorMapping | None, graph
) -> Iterator[ReportFigure]:
    country, y0, y1 = params.country, params.year_from, params.year_to
    scheme = main_scheme(frames, params)
    goods = params.sector_scheme
    sectors = frames.sectors
    what = "goods and services" if frames.has_services else "goods"
    yield ReportFigure(
        "01_sector_rca",
        f"Revealed comparative advantage by sector, {country.label}, {y1}",
        f"RCA of each sector of {what} exports ({scheme}); the dashed line marks RCA = 1, "
        "labels give the sector's share of the country's exports. Erratic items (HS 71, 97) "
        "are left out as configured.",
        fg.sector_rca_bars(sectors, country, y1, scheme),
    )
    yield ReportFigure(
        "02_sector_rca_change",
        f"Change in RCA by sector, {y0} to {y1}",
        f"Arrows run from the {y0} RCA (grey) to the {y1} RCA (black): green up, red down. "
        f"Right: the sector's share of exports in {y1}. Report figure 3.2.",
        fg.sector_rca_change(sectors, country, y0, y1, scheme),
    )
    if frames.has_services:
        yield ReportFigure(
            "03_services_rca_trends",
            "Trends in RCA, service sectors",
            "RCA of each service category per year (report figure 3.3); dashed: RCA = 1.",
            fg.sector_rca_trends(sectors, country, scheme, kind="services"),
        )
    yield ReportFigure(
        "04_goods_rca_trends",
        "Trends in RCA, goods sectors",
        "RCA of each goods sector per year (report figure 3.4), panels ordered by mean RCA; "
        "dashed: RCA = 1.",
        fg.sector_rca_trends(sectors, country, scheme, kind="goods"),
    )
    if frames.has_services:
        yield ReportFigure(
            "05_goods_services_rca",
            "RCA in goods and in services",
            "Goods and services as two aggregate sectors (report figure 3.5).",
            fg.goods_services_trend(
                sectors[sectors.sector_scheme == GOODS_SERVICES_SCHEME], country
            ),
        )
    for other in params.compare:
        # Goods only where the other country has no services rows (not in the services file).
        pair_scheme = scheme if _has_rows(sectors, scheme, other.code, y1) else goods
        basis = "" if pair_scheme == scheme else " Goods only: no services data for this country."
        yield ReportFigure(
            f"06_sector_rca_vs_{other.iso3}",
            f"RCA by sector, {country.label} and {other.label}, {y1}",
            f"Both countries' RCA per sector, ordered by {country.label}'s RCA; right: "
            f"{country.label}'s share of its exports (report figure 3.6 and appendix 1).{basis}",
            fg.sector_rca_comparison(sectors, country, other, y1, pair_scheme),
        )
    yield ReportFigure(
        "07_sectors_with_advantage",
        f"Sectors with RCA >= 1, {y1}",
        f"How many of the {goods} goods sectors each country exports with RCA >= 1 (the report "
        "counts 10 of 15 for Germany and 3 for the UK in 2012).",
        fg.sectors_with_advantage(sectors, params.countries, y1, goods),
    )
    if frames.has_services:
        yield ReportFigure(
            "08_export_split",
            f"Split of exports between goods and services, {y1}",
            "Goods and services as shares of total exports (report figure 3.7).",
            fg.export_split(sectors, params.countries, y1),
        )
    nodf = frames.nestedness.set_index("year").nodf.get(y1) if len(frames.nestedness) else None
    yield ReportFigure(
        "09_nested_matrix",
        f"Country-product matrix, {y1}",
        "Black: the country exports the product with RCA >= 1. Countries ordered by fitness "
        "(fittest at the top), products by complexity (most complex on the right); the report "
        "countries are marked. A triangle, not a diagonal, means diversification (figure 3.8).",
        fg.nested_matrix_plot(frames.nested, params.countries, y1, nodf),
    )
    yield ReportFigure(
        "10_nestedness",
        "Nestedness (NODF) per year",
        "NODF of the country-product matrix (Almeida-Neto et al. 2008): 100 = every less "
        "diversified country exports a subset of what more diversified ones export.",
        fg.nestedness_trend(frames.nestedness),
    )
    yield ReportFigure(
        "11_fitness_level",
        "Economic fitness",
        "Fitness (Tacchella et al. 2012) per year on a log scale (report figure 3.9).",
        fg.fitness_level(frames.trends, params.countries),
    )
    yield ReportFigure(
        "12_fitness_rank",
        "Economic fitness ranking",
        "Rank by fitness among all countries of the year, 1 at the top (report figure 3.10).",
        fg.fitness_rank(frames.trends, params.countries),
    )
    for who, year in _spectrograph_pairs(params):
        yield ReportFigure(
            f"13_spectrograph_{who.iso3}_{year}",
            f"Spectrograph of {who.label}'s exports, {year}",
            "Exports of every product, products ordered by complexity (left: least complex). "
            "Red: RCA >= 1. Peaks spread over the whole axis mean a diversified economy "
            "(report figures 3.11-3.13 and appendix 2).",
            fg.spectrograph_plot(frames.spectrograph, who, year),
        )
    yield ReportFigure(
        "14_diversification",
        "Export diversification",
        "Number of products exported with RCA >= 1, per year (report figure 3.14).",
        fg.diversification_trend(frames.trends, params.countries),
    )
    yield ReportFigure(
        "15_products_gained_lost",
        f"Products gained and lost, {y0} to {y1}",
        f"Products whose RCA rose to >= 1 (gained) or fell below 1 (lost) between {y0} and "
        f"{y1} (report section 3.4: the UK lost about 140 and gained about 70, 1995-2010).",
        fg.products_gained_lost(frames.changes, params.countries, y0, y1),
    )
    yield ReportFigure(
        "16_where_to_go_next",
        f"Where to go next: {country.label}, {y1}",
        "Top: the products the country does not yet export (RCA below prediction.entry_below) "
        "that each method scores highest in the last year. Bottom: how each method's scores of "
        "past years t did against what countries actually exported at t + horizon: ROC-AUC "
        f"over all countries, and precision@k over all countries and for {country.label} "
        "alone, against the base rate. Trust a method for this country only where its dashed "
        "line stays well above the dotted one (docs/prediction.md, 'Reading the backtest').",
        where_to_go_next(
            _described(frames.opportunities, frames.products),
            frames.backtest,
            frames.backtest_place,
            country,
            y1,
        ),
    )
    mapping = mapping or load_sector_mapping("hs_sections")
    colours = sector_colours([*mapping.sectors, fg.UNMAPPED])
    if graph is None:
        graph = report_product_space(frames, country.code, mapping)
    yield ReportFigure(
        "17_product_space",
        f"The product space, {y1}: {country.label}'s products with RCA >= 1",
        (
            "Products linked by the BiCM-validated projection (product_space.projection = "
            "bicm): only the co-occurrences the bipartite null model does not explain; dark: "
            "a maximum spanning forest of their proximities. Size: world trade; colour: sector "
            if graph is not None and graph.links == "bicm"
            else "Products linked by proximity (Hidalgo et al. 2007): the maximum spanning tree "
            "(dark) plus every link with proximity >= 0.55 (light). Size: world trade; colour: "
            "sector "
        )
        + f"({mapping.scheme}); outlined and opaque: {country.label}'s products with RCA >= 1. "
        "The same graph is written as GraphML and GEXF next to this page.",
        product_space_plot(graph, f"Product space, {y1}", colours, country.label)
        if graph is not None
        else None,
    )
    yield ReportFigure(
        "18_export_treemap",
        f"{country.label}'s export basket, {y1}",
        f"Exports by sector ({mapping.scheme}) and product: tile areas are export values; the "
        "largest products are labelled with their share of the country's exports.",
        export_treemap(
            export_basket(frames, country.code, mapping),
            f"{country.label}: exports by sector and product, {y1}",
            colours,
        ),
    )
    yield ReportFigure(
        "19_fitness_gdp",
        "The Fitness-GDP plane",
        f"Every country in {y1} (grey) by GDP per capita and fitness, both log10; lines: the "
        f"report countries' paths over {y0}-{y1}, the arrow {country.label}'s last step. Needs "
        "the country attributes input (input.country_attributes); with synthetic data, as the "
        "embedded release's, the GDP per capita is synthetic too.",
        fg.fitness_gdp_plane(
            fitness_gdp_rows(frames), params.countries, y1, params.source.synthetic
        ),
    )


def _has_rows(sectors: pd.DataFrame, scheme: str, country: int, year: int) -> bool:
    return bool(
        (
            (sectors.sector_scheme == scheme)
            & (sectors.country_code == country)
            & (sectors.year == year)
        ).any()
    )


def _spectrograph_pairs(params: ReportParams):
    pairs = [(params.country, params.year_to)]
    if params.year_from != params.year_to:
        pairs.append((params.country, params.year_from))
    pairs += [(other, params.year_to) for other in params.compare]
    return pairs


def save_figures(items: list[ReportFigure], out_dir: Path) -> list[Path]:
    """Write each drawn figure as PNG; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for item in items:
        if item.figure is None:
            continue
        path = out_dir / item.file_name
        path.write_bytes(item.png)
        written.append(path)
    return written


# --- tables shown on the page -------------------------------------------------------------


def summary_tables(frames: ReportFrames, params: ReportParams) -> list[tuple[str, pd.DataFrame]]:
    country, y0, y1 = params.country, params.year_from, params.year_to
    result = [
        (
            f"Sectors with RCA >= 1, {y1} ({params.sector_scheme})",
            _advantage_counts(frames, params),
        ),
        (f"{country.label}: sectors, {y0} and {y1}", _sector_table(frames, params)),
        (f"Products gained and lost, {y0} to {y1}", _change_counts(frames, params)),
    ]
    mine = frames.changes[frames.changes.country_code == country.code]
    columns = ["product", "description", "rca_from", "rca_to", "complexity"]
    for change in ("lost", "gained"):
        rows = mine[mine.change == change]
        order = "rca_from" if change == "lost" else "rca_to"
        result.append(
            (
                f"{country.label}: products {change} {y0}-{y1} (top {params.adjacent_top} by "
                f"RCA in {y0 if change == 'lost' else y1})",
                rows.nlargest(params.adjacent_top, order)[columns],
            )
        )
    adjacent = frames.adjacent
    columns = ["product", "description", "density", "cog", "complexity", "rca"]
    for rank, label in (("density_rank", "density"), ("cog_rank", "outlook gain (COG)")):
        result.append(
            (
                f"{country.label}: adjacent products by {label}, {y1}",
                adjacent.nsmallest(params.adjacent_top, rank)[columns],
            )
        )
    return result + _opportunity_tables(frames, params)


def _described(opportunities: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """The opportunities with their product's description (product_year of year_to)."""
    if opportunities.empty:
        return pd.DataFrame(columns=["method", "product", "score", "rank", "description"])
    names = products[["product", "description"]].drop_duplicates("product")
    return opportunities.merge(names, on="product", how="left")


def _opportunity_tables(
    frames: ReportFrames, params: ReportParams
) -> list[tuple[str, pd.DataFrame]]:
    """The report country's top opportunities by method, and each method's past
    precision@k for it beside the world's and the base rate."""
    country, y1 = params.country, params.year_to
    rows = _described(frames.opportunities, frames.products)
    if rows.empty:
        return []
    top = rows[rows["rank"] <= params.adjacent_top].sort_values(["method", "rank"])
    top = top.assign(method=top["method"].map(lambda m: METHOD_LABELS.get(m, m)))
    result = [
        (
            f"{country.label}: where to go next, {y1} (top {params.adjacent_top} by method)",
            top[["method", "rank", "product", "description", "score"]],
        )
    ]
    place, world = frames.backtest_place, frames.backtest
    if len(place) and len(world):
        merged = place.merge(
            world[["method", "train_year", "precision_at_k", "positives", "candidates"]],
            on=["method", "train_year"],
            suffixes=("", "_world"),
        )
        summary = (
            merged.assign(base_rate=merged["positives_world"] / merged["candidates_world"])
            .groupby("method")
            .agg(
                years=("train_year", "size"),
                first=("train_year", "min"),
                last=("train_year", "max"),
                precision_at_k=("precision_at_k", "mean"),
                world_precision_at_k=("precision_at_k_world", "mean"),
                base_rate=("base_rate", "mean"),
            )
            .reset_index()
        )
        summary["method"] = summary["method"].map(lambda m: METHOD_LABELS.get(m, m))
        result.append(
            (
                f"{country.label}: past precision@k by method (mean over the backtest years)",
                summary,
            )
        )
    return result


def _advantage_counts(frames: ReportFrames, params: ReportParams) -> pd.DataFrame:
    rows = frames.sectors[
        (frames.sectors.sector_scheme == params.sector_scheme)
        & (frames.sectors.year == params.year_to)
        & (frames.sectors.sector != fg.UNMAPPED)
    ]
    counts = rows.groupby("country_code").agg(
        sectors_with_rca_ge_1=("has_advantage", "sum"), sectors=("sector", "nunique")
    )
    names = {c.code: c.label for c in params.countries}
    counts.index = [names.get(code, code) for code in counts.index]
    return counts.astype(int).rename_axis("country").reset_index()


def _sector_table(frames: ReportFrames, params: ReportParams) -> pd.DataFrame:
    scheme = main_scheme(frames, params)
    rows = frames.sectors[
        (frames.sectors.sector_scheme == scheme)
        & (frames.sectors.country_code == params.country.code)
    ]
    table = rows.pivot_table(index="sector", columns="year", values=["share", "rca"])
    wanted = [
        (f"share {params.year_to}", ("share", params.year_to)),
        (f"RCA {params.year_from}", ("rca", params.year_from)),
        (f"RCA {params.year_to}", ("rca", params.year_to)),
    ]
    out = pd.DataFrame({name: table.get(key) for name, key in wanted if key in table.columns})
    return out.sort_values(out.columns[-1], ascending=False).reset_index() if len(out) else out


def _change_counts(frames: ReportFrames, params: ReportParams) -> pd.DataFrame:
    counts = frames.changes.groupby(["country_code", "change"]).size().unstack(fill_value=0)
    names = {c.code: c.label for c in params.countries}
    counts = counts.reindex([c.code for c in params.countries if c.code in counts.index])
    counts.index = [names[code] for code in counts.index]
    return counts.rename_axis("country").reset_index()
