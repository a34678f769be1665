"""lib.report.product_space_graph: the maximum spanning tree against an independent Kruskal, the
backbone's links, a deterministic layout, and the GraphML / GEXF files read back."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from lib.measures.product_space import proximity_matrix
from lib.report.product_space_graph import (
    backbone_edges,
    maximum_spanning_tree,
    product_space_graph,
    write_gexf,
    write_graphml,
)


def _kruskal_weight(phi: np.ndarray) -> tuple[float, int]:
    """Independent: Kruskal with union-find over the positive pairs, heaviest first."""
    n = phi.shape[0]
    parent = list(range(n))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = sorted(
        ((phi[i, j], i, j) for i in range(n) for j in range(i + 1, n) if phi[i, j] > 0),
        reverse=True,
    )
    total, count = 0.0, 0
    for w, i, j in pairs:
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[ri] = rj
            total, count = total + w, count + 1
    return total, count


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spanning_tree_is_maximal(seed):
    rng = np.random.default_rng(seed)
    M = (rng.random((30, 25)) < 0.3).astype(float)
    phi = proximity_matrix(M)
    tree = maximum_spanning_tree(phi)
    weight, count = _kruskal_weight(phi)
    assert len(tree) == count
    assert sum(w for _, _, w in tree) == pytest.approx(weight, rel=1e-12)
    assert all(phi[a, b] == w > 0 for a, b, w in tree)


def test_backbone_and_files(tmp_path):
    rng = np.random.default_rng(4)
    M = (rng.random((40, 12)) < 0.4).astype(float)
    phi = proximity_matrix(M)
    edges = backbone_edges(phi, 0.5)
    strong = {(a, b) for a, b in zip(*np.nonzero(np.triu(phi >= 0.5, 1)), strict=True)}
    tree = {(min(a, b), max(a, b)) for a, b, _ in maximum_spanning_tree(phi)}
    assert set(zip(edges.a, edges.b, strict=True)) == strong | tree
    assert set(zip(edges.a[edges.in_tree], edges.b[edges.in_tree], strict=True)) == tree

    nodes = pd.DataFrame(
        {
            "product": [f"{i:04d}" for i in range(12)],
            "label": [f"product & <{i}>" for i in range(12)],
            "sector": ["A", "B", "C"] * 4,
            "world_trade": rng.uniform(1, 100, 12),
            "rca_country": M[0].astype(int),
        }
    )
    graph = product_space_graph(phi, nodes, 0.5, seed=3)
    again = product_space_graph(phi, nodes, 0.5, seed=3)
    np.testing.assert_array_equal(graph.nodes[["x", "y"]], again.nodes[["x", "y"]])
    assert graph.nodes[["x", "y"]].to_numpy().min() >= 0 and graph.nodes.x.max() == 1

    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(write_graphml(graph, tmp_path / "ps.graphml")).getroot()
    read_nodes = root.findall(".//g:node", ns)
    read_edges = root.findall(".//g:edge", ns)
    assert [n.get("id") for n in read_nodes] == list(nodes["product"])
    assert read_nodes[1].find("g:data[@key='label']", ns).text == "product & <1>"
    weights = {
        (e.get("source"), e.get("target")): float(e.find("g:data[@key='weight']", ns).text)
        for e in read_edges
    }
    expected = {(f"{a:04d}", f"{b:04d}"): phi[a, b] for a, b in zip(edges.a, edges.b, strict=True)}
    assert weights == expected

    gexf = ET.parse(write_gexf(graph, tmp_path / "ps.gexf")).getroot()
    ns = {"x": "http://gexf.net/1.3"}
    assert len(gexf.findall(".//x:node", ns)) == 12
    assert len(gexf.findall(".//x:edge", ns)) == len(edges)


def test_bicm_projection_draws_only_the_validated_links():
    """report_product_space with bicm options: its edges are exactly the links bicm-validated
    on the same M (the test matrix of tests/measures/test_bicm.py), each at its proximity;
    a year without a validated link still gives a graph (no edge)."""
    from lib.measures.bicm import validated_projection
    from lib.report.frames import ReportFrames
    from lib.report.product_space_report import report_product_space
    from tests.measures.test_bicm import small_matrix

    class AllOne:
        def sector_of(self, code):
            return "all"

    def frames(M):
        n_c, n_p = M.shape
        products = [f"{p:04d}" for p in range(n_p)]
        grid = pd.DataFrame(
            {
                "country_code": np.repeat(np.arange(n_c), n_p),
                "product": np.tile(products, n_c),
                "mcp": M.reshape(-1).astype(int),
            }
        )
        info = pd.DataFrame(
            {"product": products, "description": products, "world_export_value": 1.0}
        )
        empty = pd.DataFrame()
        return ReportFrames(*(empty,) * 7, grid=grid, products=info)

    M = small_matrix()
    graph = report_product_space(frames(M), 0, AllOne(), bicm=(0.05, "fdr"))
    projection = validated_projection(M, 0.05, "fdr")
    expected = set(zip(projection.a[projection.link], projection.b[projection.link], strict=True))
    assert graph.links == "bicm" and len(expected) > 10
    assert set(zip(graph.edges.a, graph.edges.b, strict=True)) == expected
    phi = proximity_matrix(M)
    np.testing.assert_allclose(graph.edges.proximity, phi[graph.edges.a, graph.edges.b])

    rng = np.random.default_rng(0)
    flat = (rng.random((12, 15)) < 0.5).astype(float)  # no pair can pass
    flat[flat.sum(axis=1) == 0, 0] = 1
    empty = report_product_space(frames(flat), 0, AllOne(), bicm=(0.05, "fdr"))
    assert len(empty.edges) == 0 and len(empty.nodes) == 15
