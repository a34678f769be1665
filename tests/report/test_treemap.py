"""The squarified treemap layout: areas proportional to the values, tiles inside the rectangle
and never overlapping; and the export basket figure."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from lib.report.treemap import export_treemap, sector_colours, squarify


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_squarify_tiles_the_rectangle(seed):
    values = np.sort(np.random.default_rng(seed).lognormal(0, 1.5, 40))[::-1]
    rect = (0.5, 1.0, 3.0, 2.0)
    tiles = squarify(values, rect)
    areas = np.array([w * h for _, _, w, h in tiles])
    np.testing.assert_allclose(areas, values / values.sum() * 6.0, rtol=1e-9)
    for x, y, w, h in tiles:
        assert x >= 0.5 - 1e-9 and y >= 1.0 - 1e-9 and x + w <= 3.5 + 1e-9 and y + h <= 3.0 + 1e-9
    for (x1, y1, w1, h1), (x2, y2, w2, h2) in itertools.combinations(tiles, 2):
        overlap_w = min(x1 + w1, x2 + w2) - max(x1, x2)
        overlap_h = min(y1 + h1, y2 + h2) - max(y1, y2)
        assert overlap_w <= 1e-9 or overlap_h <= 1e-9
    worst = max(max(w / h, h / w) for _, _, w, h in tiles)
    assert worst < 12  # squarish: the point of the algorithm (a slice layout gives ~100)


def test_export_treemap_figure():
    basket = pd.DataFrame(
        {
            "product": ["0101", "0102", "8703", "8704", "3004"],
            "label": ["horses", "cattle", "cars", "trucks", "medicines"],
            "sector": ["Food", "Food", "Vehicles", "Vehicles", "Chemicals"],
            "export_value": [5.0, 1.0, 40.0, 10.0, 20.0],
        }
    )
    fig = export_treemap(basket, "test", sector_colours(["Food", "Vehicles", "Chemicals"]))
    assert fig is not None and len(fig.axes[0].patches) == 5 + 3
    assert export_treemap(basket.assign(export_value=0.0), "none", {}) is None
