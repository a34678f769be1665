"""The product figures (3.11-3.13, A2): spectrographs, products gained and lost, and the
fitness / GDP plane. Frames in, matplotlib Figure out; no pyplot state, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lib.report.countries import Country
from lib.report.figures.style import MAIN_COLOUR, country_colours

# --- products (figures 3.11-3.13, A2; gained and lost) -------------------------------------


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


def fitness_gdp_plane(
    rows: pd.DataFrame, countries: Sequence[Country], year: int, synthetic: bool = False
) -> Figure | None:
    """log10 fitness against log10 GDP per capita (Cristelli, Tacchella, Pietronero 2015): every
    country of ``year`` as a grey dot, the report countries' paths over the years as lines, the
    report country's last step as an arrow. ``rows``: year, country_code, iso3, log_fitness,
    log_gdp (``lib.report.product_space_report.fitness_gdp_rows``); ``synthetic``: the GDP per
    capita is the embedded release's synthetic series, and the axis says so."""
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
    gdp = "SYNTHETIC GDP per capita" if synthetic else "GDP per capita"
    ax.set_xlabel(f"log10 {gdp} (input.country_attributes)")
    ax.set_ylabel("log10 fitness")
    ax.set_title("The Fitness-GDP plane")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig
