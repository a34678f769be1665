"""The report's product space and export basket, from the year's rows of the indicator tables.

The proximity comes from ``lib.measures.product_space.proximity_matrix`` on the year's M (the one
definition the job uses); products are named by ``product_year.description`` and put in sectors
by the report's sector mapping. At HS6 the picture keeps the products with the largest world
trade (``report.product_space_max_products``): a force layout of 5,000 nodes is neither quick
nor readable.

With ``product_space.projection = "bicm"`` the links drawn are the BiCM-validated ones
(``lib.measures.validated_links``, the job's definition) on the same M, each weighted by its
proximity for the layout: the picture shows only the links the null model cannot explain.

Must not define proximity or the validated links a second time: it calls the measures the job
uses.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from lib.classifications.sectors import SectorMapping
from lib.measures.product_space import proximity_matrix
from lib.measures.validated_links import active_projection
from lib.report.frames import ReportFrames
from lib.report.product_space_graph import (
    ProductSpaceGraph,
    product_space_graph,
    write_gexf,
    write_graphml,
)


def _labels(frames: ReportFrames) -> pd.DataFrame:
    products = frames.products[["product", "description", "world_export_value"]]
    return products.assign(
        label=products.description.fillna(products["product"]).astype(str)
    ).set_index("product")


def report_product_space(
    frames: ReportFrames,
    country_code: int,
    mapping: SectorMapping,
    min_link: float = 0.55,
    max_products: int = 1500,
    bicm: tuple[float, str] | None = None,
) -> ProductSpaceGraph | None:
    """The backbone graph of year_to with one country's RCA >= 1 products flagged; ``bicm``
    (alpha, validation): the BiCM-validated links instead (see the module docstring)."""
    grid = frames.grid
    if grid.empty or frames.products.empty:
        return None
    M = grid.pivot_table(index="country_code", columns="product", values="mcp", fill_value=0)
    info = _labels(frames).reindex(M.columns)
    keep = info.world_export_value.fillna(0).sort_values(ascending=False).index[:max_products]
    M = M[sorted(keep)]
    active = M.columns[M.sum(axis=0) > 0]
    M = M[active]
    if M.shape[1] < 2:
        return None
    phi = proximity_matrix(M.to_numpy(dtype=float))
    if bicm is not None:  # the validated links only, at their proximity (every one is drawn)
        projection, _ = active_projection(M.to_numpy(dtype=float), M.columns, *bicm)
        phi = phi * projection.adjacency()
        min_link = float(np.finfo(float).tiny)
    info = info.loc[M.columns]
    mine = M.loc[country_code] if country_code in M.index else pd.Series(0, index=M.columns)
    nodes = pd.DataFrame(
        {
            "product": M.columns.astype(str),
            "label": info.label.to_numpy(),
            "sector": [mapping.sector_of(str(p)) for p in M.columns],
            "world_trade": info.world_export_value.fillna(0).to_numpy(dtype=float),
            "rca_country": mine.to_numpy().astype(int),
        }
    )
    graph = product_space_graph(phi, nodes, min_link)
    return replace(graph, links="bicm") if bicm is not None else graph


def export_basket(frames: ReportFrames, country_code: int, mapping: SectorMapping) -> pd.DataFrame:
    """product, label, sector, export_value of the country in year_to (exports > 0)."""
    rows = frames.grid[(frames.grid.country_code == country_code) & (frames.grid.export_value > 0)]
    labels = _labels(frames).label
    return pd.DataFrame(
        {
            "product": rows["product"].astype(str).to_numpy(),
            "label": rows["product"].map(labels).fillna(rows["product"]).to_numpy(),
            "sector": [mapping.sector_of(str(p)) for p in rows["product"]],
            "export_value": rows.export_value.to_numpy(dtype=float),
        }
    )


def write_graph_files(graph: ProductSpaceGraph, out_dir: Path, stem: str) -> list[Path]:
    """``stem``.graphml and ``stem``.gexf for Cytoscape / Gephi."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_graphml(graph, out_dir / f"{stem}.graphml"),
        write_gexf(graph, out_dir / f"{stem}.gexf"),
    ]


def fitness_gdp_rows(frames: ReportFrames) -> pd.DataFrame:
    """year, country_code, iso3, log10 fitness and log10 GDP per capita where both exist."""
    world = frames.world
    if world.empty or "gdp_per_capita" not in world or world.gdp_per_capita.notna().sum() == 0:
        return pd.DataFrame()
    rows = world[(world.gdp_per_capita > 0) & world.fitness.notna() & (world.fitness > 0)]
    return rows.assign(
        log_fitness=np.log10(rows.fitness.astype(float)),
        log_gdp=np.log10(rows.gdp_per_capita.astype(float)),
    )[["year", "country_code", "iso3", "log_fitness", "log_gdp"]]
