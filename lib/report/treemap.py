"""A country's export basket as a treemap: sectors, and the products inside each sector.

The layout is the squarified treemap of Bruls, Huizing and van Wijk (2000): items in
decreasing order are laid in rows along the shorter side of the free rectangle, a row growing
while that does not worsen its worst aspect ratio. Written here (30 lines) rather than taken
from a package: it is all the picture needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

Rect = tuple[float, float, float, float]  # x, y, width, height


def squarify(values: Sequence[float], rect: Rect) -> list[Rect]:
    """Rectangles tiling ``rect`` with areas proportional to ``values`` (positive, in the
    order given; pass them sorted in decreasing order for squarish tiles)."""
    x, y, w, h = rect
    values = [float(v) for v in values]
    total = sum(values)
    if not values or total <= 0:
        return []
    areas = [v * w * h / total for v in values]
    out: list[Rect] = []
    i = 0
    while i < len(areas):
        side = min(w, h)
        row = [areas[i]]
        j = i + 1
        while j < len(areas) and _worst(row + [areas[j]], side) <= _worst(row, side):
            row.append(areas[j])
            j += 1
        thickness = sum(row) / side
        offset = 0.0
        for area in row:
            length = area / thickness
            if w >= h:  # a column along the left side
                out.append((x, y + offset, thickness, length))
            else:  # a row along the bottom
                out.append((x + offset, y, length, thickness))
            offset += length
        if w >= h:
            x, w = x + thickness, w - thickness
        else:
            y, h = y + thickness, h - thickness
        i = j
    return out


def _worst(row: list[float], side: float) -> float:
    s = sum(row)
    return max(max(side * side * r / (s * s), s * s / (side * side * r)) for r in row)


def export_treemap(
    basket: pd.DataFrame, title: str, colours: dict[str, str], top_labels: int = 25
) -> Figure | None:
    """``basket``: product, label, sector, export_value (one country-year). Sectors are tiles
    sized by their exports, each split into its products; the largest products are labelled."""
    basket = basket[basket.export_value > 0]
    if basket.empty:
        return None
    fig = Figure(figsize=(11, 7), layout="constrained")
    ax = fig.add_subplot()
    sectors = basket.groupby("sector").export_value.sum().sort_values(ascending=False)
    total = float(sectors.sum())
    labelled = set(basket.nlargest(top_labels, "export_value")["product"])
    for sector, (sx, sy, sw, sh) in zip(
        sectors.index, squarify(sectors.to_numpy(), (0, 0, 1, 1)), strict=True
    ):
        items = basket[basket.sector == sector].sort_values("export_value", ascending=False)
        colour = colours.get(sector, "#bbbbbb")
        tiles = squarify(items.export_value.to_numpy(), (sx, sy, sw, sh))
        for item, (x, y, w, h) in zip(items.itertuples(index=False), tiles, strict=True):
            ax.add_patch(Rectangle((x, y), w, h, facecolor=colour, edgecolor="white", lw=0.4))
            if item.product in labelled and w * h > 0.004:
                share = item.export_value / total
                ax.text(
                    x + w / 2,
                    y + h / 2,
                    f"{str(item.label)[:22]}\n{share:.1%}",
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    clip_on=True,
                )
        ax.add_patch(Rectangle((sx, sy), sw, sh, fill=False, edgecolor="black", lw=1.2))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    ax.set_title(title)
    handles = [
        Patch(color=colours.get(s, "#bbbbbb"), label=f"{s} ({v / total:.0%})")
        for s, v in sectors.items()
    ]
    fig.legend(handles=handles, loc="outside right center", fontsize=7, frameon=False)
    return fig


def sector_colours(sectors: Sequence[str]) -> dict[str, str]:
    """A fixed colour per sector (tab20 then tab20b), the same in the treemap and the product
    space."""
    from matplotlib import colormaps

    palette = [colormaps["tab20"](i) for i in range(20)] + [
        colormaps["tab20b"](i) for i in range(20)
    ]
    return {s: _hex(palette[i % len(palette)]) for i, s in enumerate(sectors)}


def _hex(rgba) -> str:
    return "#" + "".join(f"{int(round(c * 255)):02x}" for c in np.asarray(rgba)[:3])
