"""The product space picture: the backbone of proximity (``lib.report.product_space_graph``), nodes
coloured by sector and sized by world trade, one country's products with RCA >= 1 highlighted.

Must not compute proximity: it draws the graph it is given.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from lib.report.product_space_graph import ProductSpaceGraph


def product_space_plot(
    graph: ProductSpaceGraph, title: str, colours: dict[str, str], country: str
) -> Figure | None:
    nodes, edges = graph.nodes, graph.edges
    if len(nodes) < 2:
        return None
    fig = Figure(figsize=(11, 8.5), layout="constrained")
    ax = fig.add_subplot()
    xy = nodes[["x", "y"]].to_numpy()
    for in_tree, colour, width in ((False, "#dddddd", 0.4), (True, "#999999", 0.8)):
        part = edges[edges.in_tree == in_tree]
        segments = np.stack([xy[part.a.to_numpy()], xy[part.b.to_numpy()]], axis=1)
        ax.add_collection(LineCollection(segments, colors=colour, linewidths=width, zorder=1))
    trade = nodes.world_trade.to_numpy(dtype=float)
    size = 6 + 300 * np.sqrt(trade / max(trade.max(), 1e-12))
    fill = [colours.get(s, "#bbbbbb") for s in nodes.sector]
    has = nodes.rca_country.to_numpy() == 1
    ax.scatter(
        xy[~has, 0],
        xy[~has, 1],
        s=size[~has],
        c=[fill[i] for i in np.flatnonzero(~has)],
        alpha=0.25,
        linewidths=0,
        zorder=2,
    )
    ax.scatter(
        xy[has, 0],
        xy[has, 1],
        s=size[has],
        c=[fill[i] for i in np.flatnonzero(has)],
        edgecolors="black",
        linewidths=0.8,
        zorder=3,
    )
    ax.set_axis_off()
    ax.set_title(title)
    present = list(dict.fromkeys(nodes.sector))
    handles = [Patch(color=colours.get(s, "#bbbbbb"), label=s) for s in present]
    handles.append(Patch(facecolor="white", edgecolor="black", label=f"{country}: RCA >= 1"))
    fig.legend(handles=handles, loc="outside right center", fontsize=7, frameon=False)
    return fig
