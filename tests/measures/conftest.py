"""Fixtures shared by the yearly core's tests (``test_yearly``, ``test_year_rows``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture()
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    X = rng.lognormal(3, 2, (12, 30)) * (rng.random((12, 30)) < 0.6)
    X[0] = X[0] / 1e6  # a tiny exporter, dropped by a country threshold
    c, p = np.nonzero(X)
    return pd.DataFrame(
        {"country_code": c + 100, "product": [f"{k:04d}" for k in p], "export_value": X[c, p]}
    )
