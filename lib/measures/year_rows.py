"""A year's large tables as rows, in bounded blocks: the grid and the proximity pairs.

``lib.measures.yearly.year_indicators`` computes every indicator of a year once; these functions
shape its dense matrices into ``country_product_year`` rows (``grid_blocks``) and
``product_proximity`` rows (``proximity_blocks``), a block at a time. WHY blocks: a year's grid
has a row per place x activity cell (3 million for 3,100 counties x 1,000 industries, ~80 B a
row as a frame), the proximity pairs ~50 million rows at HS6; a task that built either whole
would hold it beside the year's matrices. Each block is written before the next is made.

Must not compute an indicator (they are in ``lib.measures``) nor know about Spark.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from lib.measures.product_space import Proximity, proximity_pair_blocks, selected_cells
from lib.measures.yearly import YearIndicators

GRID_BLOCK_CELLS = 1 << 19  # place x activity cells per grid block (~40 MB as a frame)


def grid_blocks(
    ind: YearIndicators,
    density_pairs: str = "all",
    top_k: int = 20,
    block_cells: int = GRID_BLOCK_CELLS,
) -> Iterator[pd.DataFrame]:
    """country_product_year rows of one year in blocks of consecutive places (each at most
    ``block_cells`` cells, at least one place): every kept country x kept product with exports,
    with RCA, M, density and COG, and the pairs without exports that ``density_pairs`` selects
    (``lib.measures.product_space.selected_cells``): ``all`` (default) every one (they are the
    opportunities), ``absent`` the same (a pair without exports has M = 0), ``top_k`` those
    among the country's ``top_k`` pairs with M = 0 of highest density. Without the product
    space, only the pairs with exports (density and COG NULL)."""
    yp = ind.presence
    countries, products = yp.codes
    n_c, n_p = yp.M.shape
    outlook = ind.outlook
    density, cog = (outlook.density, outlook.cog) if outlook is not None else (None, None)
    step = max(1, block_cells // max(1, n_p))
    for start in range(0, max(n_c, 1), step):  # a year without places: one empty block
        rows = slice(start, min(n_c, start + step))
        chosen = yp.X[rows] > 0
        if density is not None:
            chosen |= selected_cells(yp.M[rows], density[rows], density_pairs, top_k)
        cells = np.flatnonzero(chosen) + start * n_p  # flat indices into the year's matrices
        c, p = np.divmod(cells, n_p)
        yield pd.DataFrame(
            {
                "year": np.full(cells.size, ind.year, dtype=np.int32),
                "country_code": countries.astype(np.int32)[c],
                "product": _codes_at(products, p),
                "export_value": _at(yp.X, cells),
                "rca": _at(yp.rca, cells),
                "rca_difference": _at(yp.rca_difference, cells),
                "mcp": _at(yp.M, cells).astype(np.int32),
                "rpop": _at(yp.rpop, cells),
                "density": _at(density, cells),
                "cog": _at(cog, cells),
            },
            copy=False,  # WHY: no consolidated copy of the block's columns
        )


def _at(matrix: np.ndarray | None, cells: np.ndarray) -> np.ndarray:
    """A year's matrix at flat ``cells``; NaN (NULL) without it (no product space)."""
    return np.full(cells.size, np.nan) if matrix is None else matrix.reshape(-1)[cells]


def grid_rows(ind: YearIndicators, density_pairs: str = "all", top_k: int = 20) -> pd.DataFrame:
    """The whole grid of a year at once (``grid_blocks`` concatenated): for tests and small
    years; the job writes the blocks."""
    return pd.concat(grid_blocks(ind, density_pairs, top_k), ignore_index=True)


def proximity_blocks(ind: YearIndicators, min_proximity: float = 0.0) -> Iterator[pd.DataFrame]:
    """The year's proximity pairs in both orders, (a, b) and (b, a) (non-zero, at least
    ``min_proximity``, never the diagonal), in blocks of consecutive ``product_a``: bounded
    memory at HS6, ~50 million rows a year."""
    _, products = ind.presence.codes
    if ind.outlook is not None:  # phi of the active products, as density used it
        proximity, products = ind.outlook.proximity, products[ind.outlook.active_products]
    else:
        proximity = Proximity.of_rows(ind.presence.M)
    for a, b, values in proximity_pair_blocks(proximity, min_proximity, upper_only=False):
        yield _pairs_frame(ind.year, products, a, b, values)


def _pairs_frame(
    year: int, products: np.ndarray, a: np.ndarray, b: np.ndarray, values: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": np.full(a.size, year, dtype=np.int32),
            "product_a": _codes_at(products, a),
            "product_b": _codes_at(products, b),
            "proximity": values,
        },
        copy=False,
    )


def _codes_at(codes: np.ndarray, index: np.ndarray) -> pd.arrays.ArrowExtensionArray:
    """codes[index] as an Arrow-backed column. WHY: these columns have millions of rows of a
    few thousand codes; Arrow's take builds them in C++ and Spark receives them without a
    conversion from Python strings (seconds per year at HS6)."""
    return pd.arrays.ArrowExtensionArray(pa.array(codes.astype(object), pa.string()).take(index))
