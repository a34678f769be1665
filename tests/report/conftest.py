"""A tiny warehouse for the report: 6 exporters, 3 years, 23 HS6 codes (20 HS4 products).

The input tables are built here with pandas and numpy (not by the indicator pipeline; the
prediction tables by its pandas core, lib.prediction.yearly), so the report's
tests do not depend on the indicator jobs; the tests then recompute every number they check
independently from these same pandas frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.prediction.yearly import year_tables
from lib.tables import TABLES

YEARS = (2001, 2002, 2003)
COUNTRIES = [
    (826, "United Kingdom", "GB", "GBR"),
    (276, "Germany", "DE", "DEU"),
    (280, "Fed. Rep. of Germany (...1990)", "DE", "DEU"),
    (251, "France", "FR", "FRA"),
    (842, "USA", "US", "USA"),
    (392, "Japan", "JP", "JPN"),
    (156, "China", "CN", "CHN"),
    (124, "Canada", "CA", "CAN"),  # in the country list, without any flows
]
EXPORTERS = (826, 276, 251, 842, 392, 156)
HS6 = [
    "010121",
    "020110",
    "100190",
    "220300",
    "270900",
    "300490",
    "300210",
    "290110",
    "390110",
    "610910",
    "720810",
    "841110",
    "847130",
    "851712",
    "854231",
    "870323",
    "870899",
    "880240",
    "901890",
    "950300",
    "710812",
    "970110",
    "9999AA",
]
ERRATIC = ("71", "97")

SCHEMAS = {
    "baci_flows": "year int, exporter int, importer int, product string, value double, "
    "quantity double, hs_revision string, release string",
    "baci_countries": "country_code int, country_name string, iso2 string, iso3 string, "
    "release string",
    "baci_products": "product string, description string, hs_revision string, release string",
    "country_year": "year int, country_code int, iso3 string, country_name string, "
    "export_value double, diversification int, fitness double, log10_fitness double, "
    "fitness_rank int, eci double, eci_rank int, coi double, mean_product_complexity double, "
    "in_core boolean, population double, gdp_per_capita double, expy double",
    "product_year": "year int, product string, description string, world_export_value double, "
    "ubiquity int, complexity double, log10_complexity double, complexity_rank int, pci double, "
    "in_core boolean, prody double",
    "country_product_year": "year int, country_code int, product string, export_value double, "
    "rca double, rca_difference double, mcp int, rpop double, density double, cog double",
}
PREDICTION_TABLES = {
    "opportunities": "product_opportunities",
    "backtest": "prediction_backtest",
    "place": "prediction_backtest_place",
}
for _name in PREDICTION_TABLES.values():  # the declared schemas (lib.tables) as DDL
    SCHEMAS[_name] = ", ".join(f"{c.name} {c.type}" for c in TABLES[_name].columns)
PREDICTION_METHODS = ("density", "bicm_density")


@dataclass(frozen=True)
class TinyWarehouse:
    path: str
    frames: dict[str, pd.DataFrame]


def _flows() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    strength = {c: rng.uniform(0.5, 2.0, len(HS6)) for c in EXPORTERS}
    rows = []
    for year in YEARS:
        for exporter in EXPORTERS:
            for k, product in enumerate(HS6):
                if rng.random() < 0.2:
                    continue  # not exported this year
                importers = rng.choice([c for c in EXPORTERS if c != exporter], 2, replace=False)
                for importer in importers:
                    value = float(np.round(strength[exporter][k] * rng.lognormal(6, 1), 3))
                    rows.append((year, exporter, int(importer), product, value, 1.0, "HS92", "T1"))
    return pd.DataFrame(
        rows,
        columns=[
            "year",
            "exporter",
            "importer",
            "product",
            "value",
            "quantity",
            "hs_revision",
            "release",
        ],
    )


def _fitness(M: np.ndarray, steps: int = 20) -> tuple[np.ndarray, np.ndarray]:
    F, Q = np.ones(M.shape[0]), np.ones(M.shape[1])
    for _ in range(steps):
        F_new = M @ Q
        Q_new = 1.0 / (M.T @ (1.0 / F))
        F, Q = F_new / F_new.mean(), Q_new / Q_new.mean()
    return F, Q


def _indicators(flows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Plausible indicator tables (not the pipeline's exact methods: only their shape matters)."""
    keep = ~flows["product"].str[:2].isin(ERRATIC) & ~flows["product"].str.startswith("9999")
    exports = (
        flows[keep]
        .assign(product=lambda d: d["product"].str[:4])
        .groupby(["year", "exporter", "product"], as_index=False)
        .value.sum()
        .rename(columns={"exporter": "country_code", "value": "export_value"})
    )
    names = pd.DataFrame(COUNTRIES, columns=["country_code", "country_name", "iso2", "iso3"])
    cy, py, cpy = [], [], []
    for year, group in exports.groupby("year"):
        X = group.pivot_table(
            index="country_code", columns="product", values="export_value", fill_value=0.0
        )
        rca = (X.div(X.sum(1), axis=0)).div(X.sum(0) / X.to_numpy().sum(), axis=1)
        M = (rca >= 1).astype(int)
        F, Q = _fitness(M.to_numpy().astype(float))
        u = M.sum(0).to_numpy()
        phi = (M.T @ M).to_numpy() / np.maximum.outer(u, u)
        np.fill_diagonal(phi, 0.0)
        density = (M.to_numpy() @ phi) / phi.sum(0)
        pci = (Q - Q.mean()) / Q.std()
        cog = (1 - M.to_numpy()) * ((1 - M.to_numpy()) @ (phi * pci[None, :]))
        d = M.sum(1).to_numpy()
        cy.append(
            pd.DataFrame(
                {
                    "year": year,
                    "country_code": X.index,
                    "export_value": X.sum(1).to_numpy(),
                    "diversification": d,
                    "fitness": F,
                    "log10_fitness": np.log10(F),
                    "fitness_rank": pd.Series(F).rank(ascending=False, method="min").astype(int),
                    "eci": (d - d.mean()) / d.std(),
                    "eci_rank": pd.Series(d).rank(ascending=False, method="min").astype(int),
                    "coi": 0.0,
                    "mean_product_complexity": (M.to_numpy() @ Q) / np.maximum(d, 1),
                    "in_core": True,
                    "population": np.nan,
                    # synthetic GDP per capita rising with fitness (for the Fitness-GDP plane)
                    "gdp_per_capita": 1000.0 * F * (1 + 0.1 * (year - 2000)),
                    "expy": np.nan,
                }
            )
        )
        py.append(
            pd.DataFrame(
                {
                    "year": year,
                    "product": X.columns,
                    "description": [f"Heading {p}" for p in X.columns],
                    "world_export_value": X.sum(0).to_numpy(),
                    "ubiquity": u,
                    "complexity": Q,
                    "log10_complexity": np.log10(Q),
                    "complexity_rank": pd.Series(Q).rank(ascending=False, method="min").astype(int),
                    "pci": pci,
                    "in_core": True,
                    "prody": np.nan,
                }
            )
        )
        long = pd.DataFrame(
            {
                "year": year,
                "country_code": np.repeat(X.index.to_numpy(), X.shape[1]),
                "product": np.tile(X.columns.to_numpy(), X.shape[0]),
                "export_value": X.to_numpy().ravel(),
                "rca": rca.to_numpy().ravel(),
                "rca_difference": 0.0,
                "mcp": M.to_numpy().ravel(),
                "rpop": np.nan,
                "density": density.ravel(),
                "cog": cog.ravel(),
            }
        )
        cpy.append(long)
    country_year = pd.concat(cy).merge(names[["country_code", "iso3", "country_name"]])
    return {
        "country_year": country_year,
        "product_year": pd.concat(py),
        "country_product_year": pd.concat(cpy),
    }


def _predictions(grid: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The prediction tables of the grid by the job's prediction core (horizon 1: the first
    two years have a backtest), density and bicm_density."""
    parts: dict[str, list[pd.DataFrame]] = {key: [] for key in PREDICTION_TABLES}
    for year in YEARS:
        now = grid[grid.year == year]
        later = grid[grid.year == year + 1] if year + 1 in YEARS else None
        out = year_tables(year, now, later, None, PREDICTION_METHODS, 0.25, 1, 3)
        for key, frame in out.items():
            parts[key].append(frame)
    return {PREDICTION_TABLES[k]: pd.concat(v, ignore_index=True) for k, v in parts.items()}


def _columns(schema: str) -> list[str]:
    return [part.strip().split()[0] for part in schema.split(",")]


def build_frames() -> dict[str, pd.DataFrame]:
    flows = _flows()
    frames = {
        "baci_flows": flows,
        "baci_countries": pd.DataFrame(
            [(*c, "T1") for c in COUNTRIES],
            columns=["country_code", "country_name", "iso2", "iso3", "release"],
        ),
        "baci_products": pd.DataFrame(
            {"product": HS6, "description": [f"Product {p}" for p in HS6]}
        ).assign(hs_revision="HS92", release="T1"),
        **_indicators(flows),
    }
    frames.update(_predictions(frames["country_product_year"]))
    return {
        name: frame[_columns(SCHEMAS[name])].reset_index(drop=True)
        for name, frame in frames.items()
    }


def write_frames(spark, warehouse: str, frames: dict[str, pd.DataFrame]) -> None:
    from lib.io.delta import write_table

    for name, frame in frames.items():
        df = spark.createDataFrame(frame, SCHEMAS[name])
        write_table(df, warehouse, name, "test-inputs")  # unpartitioned: tiny and faster


@pytest.fixture(scope="session")
def tiny_warehouse(spark, tmp_path_factory) -> TinyWarehouse:
    path = str(tmp_path_factory.mktemp("report") / "warehouse")
    frames = build_frames()
    write_frames(spark, path, frames)
    return TinyWarehouse(path, frames)


@pytest.fixture(scope="session")
def report_out(spark, tiny_warehouse: TinyWarehouse, tmp_path_factory) -> Path:
    """Runs the report job once (GBR vs DEU, FRA, CAN; services example), shared by tests."""
    from tests.report.job import run_job

    out = tmp_path_factory.mktemp("report_out")
    run_job(
        [
            "--country",
            "GBR",
            "--compare",
            "DEU,FRA,CAN",
            "--years",
            "2001-2003",
            "--warehouse",
            tiny_warehouse.path,
            "--out",
            str(out),
            "--services",
            str(Path(__file__).resolve().parents[2] / "conf" / "services_example.csv"),
        ]
    )
    return out
