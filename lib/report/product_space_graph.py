"""The product space as a picture and a graph file (Hidalgo, Klinger, Barabási, Hausmann 2007).

The network drawn is the one of the paper and the Atlas: the **maximum spanning tree** of the
proximity matrix (the strongest links that keep every product connected) plus every other link
with proximity at or above a threshold (0.55 in the paper). Nodes are products, sized by world
trade and coloured by sector; the report highlights a country's products with RCA >= 1.

Pure numpy: Prim's algorithm on the dense P x P proximity (O(P^2), ~0.1 s at HS4), a seeded
Fruchterman-Reingold layout, and writers for GraphML and GEXF (Gephi, Cytoscape) built with
``xml.etree`` (no graph library is needed for this).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ProductSpaceGraph:
    """Nodes (product, label, sector, world_trade, rca_country as 0/1, x, y) and edges
    (a, b, proximity, in_tree), a and b positions in ``nodes``."""

    nodes: pd.DataFrame
    edges: pd.DataFrame
    links: str = (
        "proximity"  # or "bicm": the BiCM-validated links (lib.report.product_space_report)
    )


def maximum_spanning_tree(phi: np.ndarray) -> list[tuple[int, int, float]]:
    """Edges (i, j, phi_ij) of a maximum spanning tree (forest if disconnected) by Prim's
    algorithm; zero proximities are not links."""
    n = phi.shape[0]
    if n == 0:
        return []
    in_tree = np.zeros(n, dtype=bool)
    best = np.full(n, -np.inf)  # strongest link of each outside node to the tree
    parent = np.full(n, -1)
    edges = []
    for _ in range(n):
        candidates = np.where(in_tree, -np.inf, best)
        node = int(np.argmax(candidates))
        if not np.isfinite(candidates[node]) or candidates[node] <= 0:
            node = int(np.flatnonzero(~in_tree)[0])  # a new component starts here
        elif parent[node] >= 0:
            edges.append((int(parent[node]), node, float(phi[parent[node], node])))
        in_tree[node] = True
        row = phi[node]
        better = ~in_tree & (row > best) & (row > 0)
        best[better], parent[better] = row[better], node
    return edges


def backbone_edges(phi: np.ndarray, min_link: float) -> pd.DataFrame:
    """The maximum spanning tree plus every other pair with phi >= ``min_link``: a, b (a < b),
    proximity, in_tree."""
    tree = maximum_spanning_tree(phi)
    pairs = {(min(a, b), max(a, b)): (w, True) for a, b, w in tree}
    a, b = np.nonzero(np.triu(phi >= min_link, 1))
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        pairs.setdefault((i, j), (float(phi[i, j]), False))
    keys = sorted(pairs)
    return pd.DataFrame(
        {
            "a": np.array([k[0] for k in keys], dtype=np.int64),  # typed when empty too
            "b": np.array([k[1] for k in keys], dtype=np.int64),
            "proximity": np.array([pairs[k][0] for k in keys], dtype=np.float64),
            "in_tree": np.array([pairs[k][1] for k in keys], dtype=bool),
        }
    )


def spring_layout(n: int, edges: pd.DataFrame, iterations: int = 150, seed: int = 0) -> np.ndarray:
    """Fruchterman-Reingold positions (n x 2) in [0, 1]^2: links pull with d^2 / k times their
    proximity, every pair pushes with k^2 / d; the step cools linearly. Seeded: the same graph
    gives the same picture."""
    rng = np.random.default_rng(seed)
    pos = rng.random((n, 2))
    if n < 2:
        return pos
    k = np.sqrt(1.0 / n)
    a, b = edges["a"].to_numpy(), edges["b"].to_numpy()
    w = edges["proximity"].to_numpy()
    step = 0.1
    for it in range(iterations):
        # Repulsion per axis on n x n planes (no n x n x 2 array, no square root): the same
        # forces at a third of the time.
        dx = pos[:, 0, None] - pos[None, :, 0]
        dy = pos[:, 1, None] - pos[None, :, 1]
        push = k * k / np.maximum(dx * dx + dy * dy, 1e-8)
        disp = np.column_stack(((dx * push).sum(axis=1), (dy * push).sum(axis=1)))
        d = pos[a] - pos[b]
        length = np.maximum(np.linalg.norm(d, axis=1), 1e-4)
        pull = d * (length * w / k)[:, None]
        np.add.at(disp, a, -pull)
        np.add.at(disp, b, pull)
        size = np.maximum(np.linalg.norm(disp, axis=1), 1e-9)
        pos += disp / size[:, None] * np.minimum(size, step * (1 - it / iterations))[:, None]
    pos -= pos.min(axis=0)
    return pos / np.maximum(pos.max(axis=0), 1e-12)


def product_space_graph(
    phi: np.ndarray, nodes: pd.DataFrame, min_link: float = 0.55, seed: int = 0
) -> ProductSpaceGraph:
    """The backbone of ``phi`` with a layout; ``nodes`` gives per product (same order as phi)
    product, label, sector, world_trade and rca_country."""
    edges = backbone_edges(phi, min_link)
    pos = spring_layout(len(nodes), edges, seed=seed)
    return ProductSpaceGraph(nodes.assign(x=pos[:, 0], y=pos[:, 1]).reset_index(drop=True), edges)


# --- files ---------------------------------------------------------------------------------

_NODE_ATTRIBUTES = (  # column, GraphML type, GEXF type
    ("label", "string", "string"),
    ("sector", "string", "string"),
    ("world_trade", "double", "double"),
    ("rca_country", "int", "integer"),
    ("x", "double", "double"),
    ("y", "double", "double"),
)


def write_graphml(graph: ProductSpaceGraph, path: str | Path) -> Path:
    """GraphML (yEd, Cytoscape, Gephi, networkx): node attributes as keys, edge weight =
    proximity, in_tree marks the spanning tree's links."""
    root = ET.Element("graphml", xmlns="http://graphml.graphdrawing.org/xmlns")
    for name, kind, _ in _NODE_ATTRIBUTES:
        ET.SubElement(
            root, "key", {"id": name, "for": "node", "attr.name": name, "attr.type": kind}
        )
    ET.SubElement(
        root, "key", {"id": "weight", "for": "edge", "attr.name": "weight", "attr.type": "double"}
    )
    ET.SubElement(
        root,
        "key",
        {"id": "in_tree", "for": "edge", "attr.name": "in_tree", "attr.type": "boolean"},
    )
    g = ET.SubElement(root, "graph", id="product_space", edgedefault="undirected")
    for row in graph.nodes.itertuples(index=False):
        node = ET.SubElement(g, "node", id=str(row.product))
        for name, _, _ in _NODE_ATTRIBUTES:
            ET.SubElement(node, "data", key=name).text = _text(getattr(row, name))
    products = graph.nodes["product"].astype(str).tolist()
    for e in graph.edges.itertuples(index=False):
        edge = ET.SubElement(g, "edge", source=products[e.a], target=products[e.b])
        ET.SubElement(edge, "data", key="weight").text = repr(float(e.proximity))
        ET.SubElement(edge, "data", key="in_tree").text = "true" if e.in_tree else "false"
    return _write(root, path)


def write_gexf(graph: ProductSpaceGraph, path: str | Path) -> Path:
    """GEXF 1.3 (Gephi): the same nodes and attributes, positions in viz:position."""
    root = ET.Element(
        "gexf",
        {
            "xmlns": "http://gexf.net/1.3",
            "xmlns:viz": "http://gexf.net/1.3/viz",
            "version": "1.3",
        },
    )
    g = ET.SubElement(root, "graph", defaultedgetype="undirected", mode="static")
    attributes = ET.SubElement(g, "attributes", {"class": "node"})
    for i, (name, _, kind) in enumerate(_NODE_ATTRIBUTES[1:4]):
        ET.SubElement(attributes, "attribute", id=str(i), title=name, type=kind)
    nodes = ET.SubElement(g, "nodes")
    for row in graph.nodes.itertuples(index=False):
        node = ET.SubElement(nodes, "node", id=str(row.product), label=_text(row.label))
        values = ET.SubElement(node, "attvalues")
        for i, (name, _, _) in enumerate(_NODE_ATTRIBUTES[1:4]):
            ET.SubElement(values, "attvalue", {"for": str(i), "value": _text(getattr(row, name))})
        ET.SubElement(
            node, "viz:position", x=repr(float(row.x) * 1000), y=repr(float(row.y) * 1000)
        )
    edges = ET.SubElement(g, "edges")
    products = graph.nodes["product"].astype(str).tolist()
    for i, e in enumerate(graph.edges.itertuples(index=False)):
        ET.SubElement(
            edges,
            "edge",
            id=str(i),
            source=products[e.a],
            target=products[e.b],
            weight=repr(float(e.proximity)),
        )
    return _write(root, path)


def _text(value) -> str:
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def _write(root: ET.Element, path: str | Path) -> Path:
    path = Path(path)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
