"""The product figures (3.11-3.13, A2): spectrographs, products gained and lost, adjacent products
and the fitness / GDP plane. Frames in, matplotlib Figure out; no pyplot state, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from lib.report.countries import Country
from lib.report.figures.style import MAIN_COLOUR, _plain_log, country_colours

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
