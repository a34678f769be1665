"""One year's BiCM-validated product links as ``product_bicm_links`` rows, from its indicators.

The yearly tasks (``lib.execution.indicators``) call ``bicm_link_blocks`` beside
``lib.measures.year_rows.proximity_blocks`` when ``product_space.projection = "bicm"``. The
projection is that of ``lib.measures.bicm`` on the year's active matrix (the countries and
products with at least one M = 1, as the proximity's), so its number of tests is the active
products' pairs.

Must not hold a formula (they are in ``lib.measures.bicm``) nor know about Spark.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from lib.measures.bicm import ValidatedProjection, validated_projection
from lib.measures.matrix import active_masks

BLOCK_ROWS = 1_000_000  # rows of one written block


def active_projection(
    M: np.ndarray, products: np.ndarray, alpha: float, validation: str
) -> tuple[ValidatedProjection, np.ndarray]:
    """The validated projection of a 0/1 matrix's active submatrix, and the codes of its
    columns (``products`` names M's columns)."""
    ac, ap = active_masks(M)
    sub = np.asarray(M, dtype=np.float64)[np.ix_(ac, ap)]
    return validated_projection(sub, alpha, validation), np.asarray(products)[ap]


def bicm_link_blocks(
    year: int, M: np.ndarray, products: np.ndarray, alpha: float, validation: str
) -> Iterator[pd.DataFrame]:
    """The year's validated links in both orders, by (product_a, product_b) index, in blocks
    of at most ``BLOCK_ROWS`` rows; nothing when there is no link."""
    projection, codes = active_projection(M, products, alpha, validation)
    keep = projection.link
    a = np.concatenate([projection.a[keep], projection.b[keep]])
    b = np.concatenate([projection.b[keep], projection.a[keep]])
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    values = {
        name: np.tile(getattr(projection, name)[keep], 2)[order]
        for name in ("cooccurrence", "expected", "p_value")
    }
    names = pa.array(codes.astype(object), pa.string())
    for start in range(0, a.size, BLOCK_ROWS):
        part = slice(start, start + BLOCK_ROWS)
        yield pd.DataFrame(
            {
                "year": np.full(a[part].size, year, dtype=np.int32),
                "product_a": pd.arrays.ArrowExtensionArray(names.take(a[part])),
                "product_b": pd.arrays.ArrowExtensionArray(names.take(b[part])),
                "cooccurrence": values["cooccurrence"][part].astype(np.int32),
                "expected": values["expected"][part],
                "p_value": values["p_value"][part],
            }
        )
