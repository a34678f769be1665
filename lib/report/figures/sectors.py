"""The sector figures of the report (figures 3.1-3.7 and A1 of Gathering strength): sector RCA
bars, changes, trends, comparisons, goods and services. Frames in, matplotlib Figure out; no
pyplot state, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from lib.report.countries import Country
from lib.report.figures.style import (
    GOODS_COLOUR,
    MAIN_COLOUR,
    PALETTE,
    SERVICES_COLOUR,
    UNMAPPED,
    _legend_below,
    _percent,
    _sector_rows,
    _year_axis,
    country_colours,
)

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
