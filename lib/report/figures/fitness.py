"""The fitness, diversification and nestedness figures (3.8-3.10, 3.14): country lines over years
and the nested matrix. Frames in, matplotlib Figure out; no pyplot state, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lib.report.countries import Country
from lib.report.figures.style import PALETTE, _plain_log, _year_axis, country_colours

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
