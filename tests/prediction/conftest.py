"""One pipeline run with the prediction stage on a small synthetic release of seven years
(horizon 2: five backtest years), shared by the prediction tests; and the same release with the
years after ``CUT`` perturbed, for the leakage test."""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deltalake import DeltaTable

from lib.datasets.synthetic import SizeSpec, flow_file_name, generate_release
from tests.shared_run import run_fitness_job

YEARS = tuple(range(2010, 2017))
HORIZON = 2
K = 10
CUT = 2013  # the leakage test perturbs the years after it
SIZE = SizeSpec(YEARS, n_countries=25, n_products=100, flows_per_year=2200, name="prediction")
METHODS = '["density", "bicm_density", "random_forest"]'
TREES = 5
SEED = 7
SIGMA = 0.5
BOOTSTRAP = 400


@dataclass(frozen=True)
class PredictionRun:
    release: Path
    warehouse: str
    attributes: Path

    def table(self, name: str) -> pd.DataFrame:
        return DeltaTable(f"{self.warehouse}/{name}").to_pandas()


def job_args(release: Path, warehouse: str, attributes: Path) -> list[str]:
    return [
        *("--source", str(release)),
        *("--set", f"input.country_attributes={attributes}"),
        *("--set", f"prediction.sps_sigma={SIGMA}"),
        *("--set", f"prediction.sps_bootstrap={BOOTSTRAP}"),
        *("--warehouse", warehouse),
        *("--set", f"prediction.horizon={HORIZON}"),
        *("--set", f"prediction.k={K}"),
        *("--set", f"prediction.methods={METHODS}"),
        *("--set", f"prediction.trees={TREES}"),
        *("--set", f"prediction.seed={SEED}"),
        *("--set", "prediction.ml_tasks=2"),
        *("--set", "product_space.projection=bicm"),
    ]


@pytest.fixture(scope="package")
def prediction_run(spark, tmp_path_factory) -> PredictionRun:
    root = tmp_path_factory.mktemp("prediction_run")
    release = generate_release(root / "release", size=SIZE, seed=5)
    warehouse = str(root / "warehouse")
    attributes = gdp_per_capita(release, root / "attributes.csv")
    run_fitness_job(spark, *job_args(release, warehouse, attributes))
    return PredictionRun(release, warehouse, attributes)


def gdp_per_capita(release: Path, out: Path, seed: int = 3) -> Path:
    """A made-up (test-only) GDP per capita series of the release's countries: ln GDP pc =
    8.5 + 1.2 x the generator's latent capability + a country's own random walk."""
    truth = pd.read_csv(release / "latent_truth.csv")
    rng = np.random.default_rng(seed)
    walks = {c: np.cumsum(rng.normal(0.02, 0.05, len(YEARS))) for c in truth["country_code"]}
    truth["gdp_per_capita"] = [
        float(np.exp(8.5 + 1.2 * cap + walks[c][YEARS.index(y)]))
        for c, y, cap in truth[["country_code", "year", "capability"]].itertuples(index=False)
    ]
    truth["population"] = ""
    truth.rename(columns={"country_code": "country"})[
        ["country", "year", "population", "gdp_per_capita"]
    ].to_csv(out, index=False)
    return out


def perturbed_release(release: Path, out: Path, after: int, seed: int = 11) -> Path:
    """A copy of ``release`` whose flows of the years after ``after`` are changed: values
    scaled by random factors in [0.2, 5], one row in ten dropped."""
    shutil.copytree(release, out)
    rng = np.random.default_rng(seed)
    for year in YEARS:
        if year <= after:
            continue
        path = out / flow_file_name(year)
        with path.open(newline="") as fh:
            rows = list(csv.reader(fh))
        header, body = rows[0], rows[1:]
        kept = []
        for row in body:
            if rng.random() < 0.1:
                continue
            row[4] = f"{float(row[4]) * rng.uniform(0.2, 5.0):.3f}"
            kept.append(row)
        with path.open("w", newline="") as fh:
            csv.writer(fh).writerows([header, *kept])
    return out
