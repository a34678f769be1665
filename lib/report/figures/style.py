"""The report's look shared by every figure: colours, the footer, PNG export and axis helpers. Must
not draw a figure of its own.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
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
