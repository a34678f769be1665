"""The report's figures: pandas frames in, matplotlib ``Figure`` out (no pyplot state).

Each function draws one figure of "Gathering strength" (IPPR 2014) from the rows of one report
table and returns ``None`` when there is nothing to draw, so callers skip it and say why. WHY
``Figure`` objects instead of ``pyplot``: no global state, no GUI backend, the same code in the
job, the tests and the notebook.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

from lib.report.countries import Country

MAIN_COLOUR = "#b2182b"
PALETTE = ("#2166ac", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#666666")
GOODS_COLOUR = "#4d7ea8"
SERVICES_COLOUR = "#e08e45"
UNMAPPED = "(unmapped)"


def country_colours(countries: Sequence[Country]) -> dict[int, str]:
    """The report country in red, the others in a fixed palette: the same in every figure."""
    colours = {countries[0].code: MAIN_COLOUR}
    for i, country in enumerate(countries[1:]):
        colours[country.code] = PALETTE[i % len(PALETTE)]
    return colours


def add_footer(fig: Figure, text: str) -> None:
    """A line at the foot of the figure (the figure's x label: constrained layout keeps room for
    it, so it never overlaps an axis or a legend below the plot)."""
    fig.supxlabel(text, x=0.995, ha="right", fontsize=8, color="#b00020", style="italic")


def figure_png(fig: Figure, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _year_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", alpha=0.3)


def _legend_below(ax: Axes, handles: list | None = None) -> None:
    """Legend in one row under the plot: never on top of bars, labels or the title."""
    if handles is None:
        handles = ax.get_legend_handles_labels()[0]
    ax.figure.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False)


def _plain_log(ax: Axes) -> None:
    """Log y-axis with plain numbers (0.5, 1, 2) instead of powers of ten; call after plotting.

    Minor ticks are labelled only when the axis spans less than a decade (else they collide).
    """
    ax.set_yscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    low, high = ax.get_ylim()
    ax.yaxis.set_minor_formatter(plain if high / low < 10 else NullFormatter())


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%" if value >= 0.001 else "<0.1%"


def _sector_rows(sectors: pd.DataFrame, country: int, year: int, scheme: str) -> pd.DataFrame:
    rows = sectors[
        (sectors.country_code == country)
        & (sectors.year == year)
        & (sectors.sector_scheme == scheme)
        & (sectors.sector != UNMAPPED)
    ]
    return rows.sort_values(["rca", "sector"], ascending=[True, False])


# --- sectors (figures 3.1-3.7, A1) -------------------------------------------------------


def sector_rca_bars(
    sectors: pd.DataFrame, country: Country, year: int, scheme: str
) -> Figure | None:
    """Figure 3.1: RCA by sector, with the sector's share of the country's exports."""
    rows = _sector_rows(sectors, country.code, year, scheme)
    if rows.empty:
        return None
    fig = Figure(figsize=(9, 0.32 * len(rows) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    colours = [SERVICES_COLOUR if k == "services" else GOODS_COLOUR for k in rows.sector_kind]
    bars = ax.barh(rows.sector, rows.rca, color=colours)
    for bar, rca, share in zip(bars, rows.rca, rows.share, strict=True):
        ax.annotate(
            f" {rca:.2f}  ({_percent(share)} of exports)",
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            va="center",
            fontsize=8,
        )
    ax.axvline(1.0, color="black", linewidth=1, linestyle="--")
    ax.set_xlim(0, max(1.5, rows.rca.max()) * 1.45)
    ax.set_xlabel("Revealed comparative advantage (1 = world average)")
    ax.set_title(f"{country.label}: revealed comparative advantage by sector, {year}")
    if (rows.sector_kind == "services").any():
        _kind_legend(ax)
    return fig


def _kind_legend(ax: Axes) -> None:
    _legend_below(
        ax,
        [Patch(color=GOODS_COLOUR, label="goods"), Patch(color=SERVICES_COLOUR, label="services")],
    )


def sector_rca_change(
    sectors: pd.DataFrame, country: Country, year_from: int, year_to: int, scheme: str
) -> Figure | None:
    """Figure 3.2: each sector's RCA in two years (arrow from the first to the second)."""
    before = _sector_rows(sectors, country.code, year_from, scheme).set_index("sector")
    after = _sector_rows(sectors, country.code, year_to, scheme).set_index("sector")
    common = [s for s in after.index if s in before.index]
    if year_from == year_to or not common:
        return None
    after = after.loc[common]
    fig = Figure(figsize=(9, 0.32 * len(common) + 1.8), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(common))
    start, end = before.loc[common, "rca"].to_numpy(), after.rca.to_numpy()
    right = max(1.5, start.max(), end.max()) * 1.1
    for yi, a, b in zip(y, start, end, strict=True):
        if abs(b - a) < 0.02 * right:
            continue  # an arrow shorter than its head would only add noise
        colour = "#1a9850" if b >= a else "#d73027"
        ax.annotate(
            "", (b, yi), (a, yi), arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.5}
        )
    ax.scatter(start, y, color="#999999", zorder=3, label=str(year_from))
    ax.scatter(end, y, color="black", zorder=3, label=str(year_to))
    for yi, share in zip(y, after.share, strict=True):
        ax.annotate(_percent(share), (right, yi), va="center", fontsize=8, color="#555555")
    ax.text(right, len(common) - 0.3, f"share {year_to}", fontsize=8, color="#555555")
    ax.set_yticks(y, common)
    ax.set_xlim(0, right * 1.18)
    ax.axvline(1.0, color="black", linewidth=1, linestyle="--")
    ax.set_xlabel("Revealed comparative advantage")
    ax.set_title(f"{country.label}: change in RCA by sector, {year_from} to {year_to}")
    _legend_below(ax)
    return fig


def sector_rca_trends(
    sectors: pd.DataFrame, country: Country, scheme: str, kind: str = "goods"
) -> Figure | None:
    """Figures 3.3 (services) and 3.4 (goods): RCA per sector over the years, one panel each."""
    rows = sectors[
        (sectors.country_code == country.code)
        & (sectors.sector_scheme == scheme)
        & (sectors.sector_kind == kind)
        & (sectors.sector != UNMAPPED)
    ]
    if rows.empty:
        return None
    order = rows.groupby("sector").rca.mean().sort_values(ascending=False).index
    ncols = 4 if len(order) > 6 else 3
    nrows = int(np.ceil(len(order) / ncols))
    fig = Figure(figsize=(3.2 * ncols, 2.3 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    top = max(1.5, rows.rca.max() * 1.1)
    for ax, sector in zip(axes, order, strict=False):
        series = rows[rows.sector == sector].sort_values("year")
        ax.plot(series.year, series.rca, marker="o", markersize=3, color=MAIN_COLOUR)
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_title(sector, fontsize=9)
        ax.set_ylim(0, top)
        _year_axis(ax)
    for ax in axes[len(order) :]:
        ax.set_visible(False)
    fig.suptitle(f"{country.label}: trends in RCA, {kind} sectors (dashed line: RCA = 1)")
    return fig


def sector_rca_comparison(
    sectors: pd.DataFrame, country: Country, other: Country, year: int, scheme: str
) -> Figure | None:
    """Figure 3.6 and appendix 1: two countries' RCA by sector, with the first one's shares."""
    mine = _sector_rows(sectors, country.code, year, scheme).set_index("sector")
    theirs = _sector_rows(sectors, other.code, year, scheme).set_index("sector")
    if mine.empty or theirs.empty:
        return None
    order = list(mine.index)
    y = np.arange(len(order))
    fig = Figure(figsize=(9, 0.38 * len(order) + 1.8), layout="constrained")
    ax = fig.add_subplot()
    height = 0.4
    ax.barh(y + height / 2, mine.rca, height, color=MAIN_COLOUR, label=country.label)
    other_rca = theirs.rca.reindex(order).fillna(0.0)
    ax.barh(y - height / 2, other_rca, height, color=PALETTE[0], label=other.label)
    right = max(1.5, mine.rca.max(), other_rca.max()) * 1.08
    for yi, share in zip(y, mine.share, strict=True):
        ax.annotate(_percent(share), (right, yi), va="center", fontsize=8, color="#555555")
    ax.text(right, len(order) - 0.4, f"{country.iso3} share", fontsize=8, color="#555555")
    ax.set_yticks(y, order)
    ax.set_xlim(0, right * 1.2)
    ax.axvline(1.0, color="black", linewidth=1, linestyle="--")
    ax.set_xlabel("Revealed comparative advantage")
    ax.set_title(f"RCA by sector, {country.label} and {other.label}, {year}")
    _legend_below(ax)
    return fig


def sectors_with_advantage(
    sectors: pd.DataFrame, countries: Sequence[Country], year: int, scheme: str
) -> Figure | None:
    """The report's count: in how many sectors each country has RCA >= 1 (UK 3, Germany 10)."""
    rows = sectors[
        (sectors.year == year) & (sectors.sector_scheme == scheme) & (sectors.sector != UNMAPPED)
    ]
    if rows.empty:
        return None
    total = rows.sector.nunique()
    counts = rows.groupby("country_code").has_advantage.sum()
    present = [c for c in countries if c.code in counts.index]
    fig = Figure(figsize=(max(5, 1.1 * len(present) + 2), 4), layout="constrained")
    ax = fig.add_subplot()
    colours = country_colours(countries)
    values = [int(counts[c.code]) for c in present]
    bars = ax.bar([c.label for c in present], values, color=[colours[c.code] for c in present])
    ax.bar_label(bars, labels=[f"{v} of {total}" for v in values])
    ax.set_ylim(0, total + 1)
    ax.set_ylabel(f"Sectors with RCA >= 1 (out of {total})")
    ax.set_title(f"Number of sectors with a revealed comparative advantage, {year}")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def goods_services_trend(sectors: pd.DataFrame, country: Country) -> Figure | None:
    """Figure 3.5: RCA of goods and of services as two aggregate sectors, over the years."""
    rows = sectors[
        (sectors.country_code == country.code) & (sectors.sector_scheme == "goods_services")
    ]
    if rows.empty:
        return None
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for sector, colour in (("Goods", GOODS_COLOUR), ("Services", SERVICES_COLOUR)):
        series = rows[rows.sector == sector].sort_values("year")
        ax.plot(series.year, series.rca, marker="o", color=colour, label=sector.lower())
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_ylabel("Revealed comparative advantage")
    ax.set_title(f"{country.label}: RCA in goods and in services")
    ax.legend()
    _year_axis(ax)
    return fig


def export_split(sectors: pd.DataFrame, countries: Sequence[Country], year: int) -> Figure | None:
    """Figure 3.7: goods and services as shares of each country's exports."""
    rows = sectors[(sectors.sector_scheme == "goods_services") & (sectors.year == year)]
    share = rows.pivot_table(index="country_code", columns="sector", values="share", aggfunc="sum")
    present = [c for c in countries if c.code in share.index]
    if not present:
        return None
    share = share.reindex([c.code for c in present]).fillna(0.0)
    labels = [c.label for c in present]
    fig = Figure(figsize=(8, 0.5 * len(present) + 1.8), layout="constrained")
    ax = fig.add_subplot()
    goods = share.get("Goods", pd.Series(0.0, index=share.index)).to_numpy()
    services = share.get("Services", pd.Series(0.0, index=share.index)).to_numpy()
    ax.barh(labels, goods, color=GOODS_COLOUR, label="goods")
    ax.barh(labels, services, left=goods, color=SERVICES_COLOUR, label="services")
    for i, (g, s) in enumerate(zip(goods, services, strict=True)):
        if g >= 0.08:  # label a segment only where the text fits inside it
            ax.text(g / 2, i, _percent(g), ha="center", va="center", color="white", fontsize=8)
        if s >= 0.08:
            ax.text(g + s / 2, i, _percent(s), ha="center", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
    ax.set_xlabel("Share of total exports")
    ax.set_title(f"Split of exports between goods and services, {year}")
    _legend_below(ax)
    return fig


# --- fitness, diversification, nestedness (figures 3.8-3.10, 3.14) -----------------------


def _country_lines(
    trends: pd.DataFrame, countries: Sequence[Country], column: str, ax: Axes
) -> None:
    colours = country_colours(countries)
    for country in countries:
        series = trends[trends.country_code == country.code].sort_values("year")
        series = series[series[column].notna()]
        if series.empty:
            continue
        main = country.code == countries[0].code
        ax.plot(
            series.year,
            series[column],
            marker="o",
            markersize=4 if main else 3,
            linewidth=2.6 if main else 1.4,
            color=colours[country.code],
            label=country.label,
            zorder=3 if main else 2,
        )
    _year_axis(ax)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))


def fitness_level(trends: pd.DataFrame, countries: Sequence[Country]) -> Figure | None:
    """Figure 3.9: economic fitness over the years (log scale: fitness is multiplicative)."""
    if trends.fitness.notna().sum() == 0:
        return None
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.add_subplot()
    _country_lines(trends, countries, "fitness", ax)
    _plain_log(ax)
    ax.set_ylabel("Fitness (log scale; mean over countries = 1)")
    ax.set_title("Economic fitness")
    return fig


def fitness_rank(trends: pd.DataFrame, countries: Sequence[Country]) -> Figure | None:
    """Figure 3.10: fitness rank over the years (1 = fittest, drawn at the top)."""
    if trends.fitness_rank.notna().sum() == 0:
        return None
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.add_subplot()
    _country_lines(trends, countries, "fitness_rank", ax)
    ax.invert_yaxis()
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    total = int(trends.countries_ranked.max())
    ax.set_ylabel(f"Fitness rank (1 = highest, of {total} countries)")
    ax.set_title("Economic fitness ranking")
    return fig


def diversification_trend(trends: pd.DataFrame, countries: Sequence[Country]) -> Figure | None:
    """Figure 3.14: number of products with RCA >= 1, out of the N products of the year."""
    if trends.diversification.notna().sum() == 0:
        return None
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.add_subplot()
    _country_lines(trends, countries, "diversification", ax)
    totals = sorted({int(n) for n in trends.products_total.dropna()})
    out_of = str(totals[0]) if len(totals) == 1 else f"{totals[0]}-{totals[-1]}"
    ax.set_ylabel(f"Products with RCA >= 1 (out of {out_of})")
    ax.set_title("Export diversification")
    return fig


def nested_matrix_plot(
    nested: pd.DataFrame, countries: Sequence[Country], year: int, nodf: float | None = None
) -> Figure | None:
    """Figure 3.8: M with countries by fitness (fittest at the top), products by complexity."""
    if nested.empty:
        return None
    n_countries = int(nested.countries_ranked.max())
    n_products = int(nested.products_ranked.max())
    M = np.zeros((n_countries, n_products), dtype=bool)
    M[nested.country_position.to_numpy() - 1, nested.product_position.to_numpy() - 1] = True
    fig = Figure(figsize=(10, 6.5), layout="constrained")
    ax = fig.add_subplot()
    extent = (0.5, n_products + 0.5, 0.5, n_countries + 0.5)  # positions 1..N on the axes
    ax.imshow(
        M, cmap="Greys", aspect="auto", origin="lower", interpolation="nearest", extent=extent
    )
    colours = country_colours(countries)
    positions = nested.drop_duplicates("country_code").set_index("country_code").country_position
    marked = [c for c in countries if c.code in positions.index]
    edge = ax.get_yaxis_transform()  # x in axes units, y in data units
    for country in marked:
        y = positions[country.code]
        ax.plot(
            [1.0],
            [y],
            marker="<",
            color=colours[country.code],
            markersize=8,
            transform=edge,
            clip_on=False,
        )
    ax.set_yticks([positions[c.code] for c in marked], [c.label for c in marked], fontsize=8)
    for tick, country in zip(ax.get_yticklabels(), marked, strict=True):
        tick.set_color(colours[country.code])
    ax.set_xlabel(f"Products, by increasing complexity (1 to {n_products})")
    ax.set_ylabel(f"Countries, by increasing fitness ({n_countries})")
    extra = f", NODF = {nodf:.1f}" if nodf is not None and np.isfinite(nodf) else ""
    ax.set_title(f"Country-product matrix (RCA >= 1 in black), {year}{extra}")
    return fig


def nestedness_trend(nestedness: pd.DataFrame) -> Figure | None:
    """NODF of M per year, with its country and product parts."""
    if nestedness.empty:
        return None
    rows = nestedness.sort_values("year")
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(rows.year, rows.nodf, marker="o", color="black", linewidth=2, label="NODF")
    ax.plot(rows.year, rows.nodf_countries, marker=".", color=PALETTE[0], label="country pairs")
    ax.plot(rows.year, rows.nodf_products, marker=".", color=PALETTE[2], label="product pairs")
    ax.set_ylim(0, 100)
    ax.set_ylabel("NODF (0 = not nested, 100 = perfectly nested)")
    ax.set_title("Nestedness of the country-product matrix")
    ax.legend()
    _year_axis(ax)
    return fig


# --- products (figures 3.11-3.13, A2; gained and lost; adjacent areas) --------------------


def spectrograph_plot(spectrograph: pd.DataFrame, country: Country, year: int) -> Figure | None:
    """Figures 3.11-3.13: export value of every product, products ordered by complexity."""
    rows = spectrograph[(spectrograph.country_code == country.code) & (spectrograph.year == year)]
    if rows.empty:
        return None
    rows = rows.sort_values("product_position")
    usd = rows.export_value.to_numpy() * 1000.0  # BACI values are thousands of USD
    exported = usd > 0
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax = fig.add_subplot()
    competitive = exported & (rows.mcp.to_numpy() == 1)
    other = exported & ~competitive
    x = rows.product_position.to_numpy()
    # One line a product, as wide as its slot: thousands of bar patches took ~1.4 s to draw.
    bottom = max(usd[exported].min() / 2, 1e3) if exported.any() else 1.0
    width = max(0.3, 0.85 * 11 * 72 / max(len(rows), 1))  # points per product slot
    for chosen, colour, label in (
        (competitive, MAIN_COLOUR, "RCA >= 1"),
        (other, "#9ecae1", "RCA < 1"),
    ):
        ax.vlines(x[chosen], bottom, usd[chosen], colors=colour, linewidth=width, label=label)
    if exported.any():
        ax.set_yscale("log")
        ax.set_ylim(bottom=bottom)
    ax.set_xlim(0, int(rows.products_ranked.max()) + 1)
    ax.set_xlabel(f"Products, by increasing complexity (1 to {int(rows.products_ranked.max())})")
    ax.set_ylabel("Exports (USD, log scale)")
    ax.set_title(
        f"Spectrograph of {country.label}'s exports, {year}: "
        f"{int(competitive.sum())} products with RCA >= 1"
    )
    ax.legend(loc="upper left", fontsize=8)
    return fig


def products_gained_lost(
    changes: pd.DataFrame, countries: Sequence[Country], year_from: int, year_to: int
) -> Figure | None:
    """Products gained and lost (RCA crossing 1) between two years, per country."""
    if year_from == year_to:
        return None
    counts = changes.groupby(["country_code", "change"]).size().unstack(fill_value=0)
    present = [c for c in countries if c.code in counts.index]
    if not present:
        return None
    counts = counts.reindex([c.code for c in present]).fillna(0)
    x = np.arange(len(present))
    fig = Figure(figsize=(max(6, 1.2 * len(present) + 2), 4.5), layout="constrained")
    ax = fig.add_subplot()
    width = 0.38
    gained = counts.get("gained", pd.Series(0, index=counts.index)).astype(int)
    lost = counts.get("lost", pd.Series(0, index=counts.index)).astype(int)
    ax.bar_label(ax.bar(x - width / 2, gained, width, color="#1a9850", label="gained"))
    ax.bar_label(ax.bar(x + width / 2, lost, width, color="#d73027", label="lost"))
    ax.set_xticks(x, [c.label for c in present])
    ax.set_ylabel("Number of products")
    ax.set_title(f"Products gained and lost (RCA crossing 1), {year_from} to {year_to}")
    ax.legend()
    return fig


def adjacent_products_plot(
    adjacent: pd.DataFrame, country: Country, year: int, top: int = 15
) -> Figure | None:
    """Adjacent areas: products not yet exported competitively, by density and complexity.

    Left: every candidate (density vs complexity, colour = COG), the closest ``top`` circled.
    Right: those closest products by name, with their complexity, so the labels stay readable.
    """
    rows = adjacent[(adjacent.country_code == country.code) & (adjacent.year == year)]
    rows = rows[rows.complexity.notna()]
    if rows.empty:
        return None
    best = rows.nsmallest(top, "density_rank").sort_values("density_rank", ascending=False)
    fig = Figure(figsize=(13, 0.28 * len(best) + 3.5), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.1, 1])
    log_scale = bool((rows.complexity > 0).all())
    points = left.scatter(
        rows.density, rows.complexity, c=rows.cog, cmap="viridis", s=12, alpha=0.8
    )
    left.scatter(
        best.density,
        best.complexity,
        s=45,
        facecolors="none",
        edgecolors=MAIN_COLOUR,
        linewidths=1.2,
        label=f"{len(best)} closest (right)",
    )
    if log_scale:
        _plain_log(left)
        right.set_xscale("log")
        right.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    fig.colorbar(points, ax=left, label="Complexity outlook gain (COG)", location="left", pad=0.02)
    left.yaxis.tick_right()
    left.yaxis.set_label_position("right")
    left.set_xlabel("Density (closeness to the country's current exports)")
    left.set_ylabel("Product complexity" + (" (log scale)" if log_scale else ""))
    left.legend(loc="lower right", fontsize=8)
    labels = [_product_label(r["product"], r.description) for _, r in best.iterrows()]
    colours = [points.cmap(points.norm(c)) for c in best.cog]
    right.barh(labels, best.complexity, color=colours)
    for y, density in enumerate(best.density):
        right.annotate(
            f" density {density:.2f}", (best.complexity.iloc[y], y), va="center", fontsize=7
        )
    right.tick_params(axis="y", labelsize=8)
    right.set_xlabel("Product complexity")
    right.set_title(f"Closest {len(best)} products (highest density at the top)", fontsize=10)
    fig.suptitle(f"{country.label}: products not yet exported with RCA >= 1, {year}")
    return fig


def _product_label(code: str, description: object, width: int = 42) -> str:
    text = f"{code} {description}" if isinstance(description, str) and description else str(code)
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def fitness_gdp_plane(rows: pd.DataFrame, countries: Sequence[Country], year: int) -> Figure | None:
    """log10 fitness against log10 GDP per capita (Cristelli, Tacchella, Pietronero 2015): every
    country of ``year`` as a grey dot, the report countries' paths over the years as lines, the
    report country's last step as an arrow. ``rows``: year, country_code, iso3, log_fitness,
    log_gdp (``lib.report.product_space_report.fitness_gdp_rows``)."""
    if rows.empty or (rows.year == year).sum() == 0:
        return None
    fig = Figure(figsize=(9, 6.5), layout="constrained")
    ax = fig.add_subplot()
    now = rows[rows.year == year]
    ax.scatter(now.log_gdp, now.log_fitness, s=12, color="#bbbbbb", zorder=1, label=f"all, {year}")
    for iso3, x, y in zip(now.iso3, now.log_gdp, now.log_fitness, strict=True):
        ax.annotate(
            str(iso3),
            (x, y),
            fontsize=5.5,
            color="#888888",
            xytext=(2, 2),
            textcoords="offset points",
        )
    colours = country_colours(countries)
    for country in countries:
        path = rows[rows.country_code == country.code].sort_values("year")
        if path.empty:
            continue
        main = country.code == countries[0].code
        ax.plot(
            path.log_gdp,
            path.log_fitness,
            marker="o",
            markersize=3.5 if main else 2.5,
            linewidth=2.2 if main else 1.2,
            color=colours[country.code],
            label=country.label,
            zorder=3 if main else 2,
        )
        if main and len(path) > 1:
            (x0, y0), (x1, y1) = path[["log_gdp", "log_fitness"]].to_numpy()[-2:]
            ax.annotate(
                "",
                (x1, y1),
                (x0, y0),
                zorder=4,
                arrowprops={"arrowstyle": "->", "color": colours[country.code], "lw": 2},
            )
    ax.set_xlabel("log10 GDP per capita (input.country_attributes)")
    ax.set_ylabel("log10 fitness")
    ax.set_title("The Fitness-GDP plane")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig
