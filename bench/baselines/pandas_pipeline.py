"""Baseline: the indicators with plain pandas and numpy, one process, one year after another.

From the Parquet of ``pyarrow_convert``: exports per country and product at the HS level
(erratic chapters 71 and 97 and the 9999xx codes left out), RCA and M (RCA >= 1), Fitness and
Complexity (up to 200 steps, stop below 1e-12, as the pipeline's defaults), ECI / PCI (second
eigenvector of the countries' C x C matrix), proximity and density. Writes per year, as
Parquet: the country rows, the product rows, the country x product grid (exports, RCA, M,
density) and the non-zero proximities in both orders -- the pipeline's tables, without COI /
COG, names or Delta.

    python -m bench.baselines.pandas_pipeline --flows DIR --out DIR --level hs4 [--save-exports DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

DIGITS = {"hs2": 2, "hs4": 4, "hs6": 6}
ERRATIC = ("71", "97")


def exports_of_year(path: Path, digits: int) -> pd.DataFrame:
    flows = pd.read_parquet(path, columns=["exporter", "product", "value"], dtype_backend="pyarrow")
    product = flows["product"]
    keep = ~product.str[:2].isin(ERRATIC) & ~product.str.startswith("9999")
    flows = flows[keep]
    hs = flows["product"].str[:digits]
    exports = flows.groupby([flows["exporter"], hs], observed=True)["value"].sum()
    exports.index.names = ["country", "product"]
    return exports[exports > 0].reset_index(name="export_value")


def fitness(M: np.ndarray, steps: int = 200, tolerance: float = 1e-12):
    F, Q = np.ones(M.shape[0]), np.ones(M.shape[1])
    step = 0
    while step < steps:
        step += 1
        F_new = M @ Q
        Q_new = 1.0 / (M.T @ (1.0 / F))
        F_new, Q_new = F_new / F_new.mean(), Q_new / Q_new.mean()
        change = max(np.abs(F_new - F).max(), np.abs(Q_new - Q).max())
        F, Q = F_new, Q_new
        if change < tolerance:
            break
    return F, Q, step


def eci_pci(M: np.ndarray):
    kc, kp = M.sum(axis=1), M.sum(axis=0)
    Mcc = (M / kc[:, None]) @ (M / kp[None, :]).T
    values, vectors = np.linalg.eig(Mcc)
    order = np.argsort(values.real)
    e = vectors[:, order[-2]].real
    if np.corrcoef(e, kc)[0, 1] < 0:
        e = -e
    q = (M.T @ e) / kp
    return (e - e.mean()) / e.std(), (q - q.mean()) / q.std()


def proximity_density(M: np.ndarray):
    kp = M.sum(axis=0)
    phi = (M.T @ M) / np.maximum.outer(kp, kp)
    np.fill_diagonal(phi, 0.0)
    density = (M @ phi) / phi.sum(axis=0)
    return phi, density


def year_tables(year: int, exports: pd.DataFrame) -> dict[str, pd.DataFrame]:
    X = exports.pivot(index="country", columns="product", values="export_value").fillna(0.0)
    countries, products, x = X.index.to_numpy(), X.columns.to_numpy(), X.to_numpy()
    rca = (x / x.sum(axis=1, keepdims=True)) / (x.sum(axis=0, keepdims=True) / x.sum())
    M = (rca >= 1.0).astype(np.float64)
    F, Q, _ = fitness(M)
    eci, pci = eci_pci(M)
    phi, density = proximity_density(M)
    n_c, n_p = M.shape
    a, b = np.nonzero(phi)
    codes = pa.array(products.astype(str))
    return {
        "country": pd.DataFrame(
            {
                "year": year,
                "country": countries,
                "export_value": x.sum(axis=1),
                "diversity": M.sum(axis=1),
                "fitness": F,
                "eci": eci,
            }
        ),
        "product": pd.DataFrame(
            {
                "year": year,
                "product": products,
                "world_export_value": x.sum(axis=0),
                "ubiquity": M.sum(axis=0),
                "complexity": Q,
                "pci": pci,
            }
        ),
        "grid": pd.DataFrame(
            {
                "year": year,
                "country": np.repeat(countries, n_p),
                "product": pd.arrays.ArrowExtensionArray(codes.take(np.tile(np.arange(n_p), n_c))),
                "export_value": x.reshape(-1),
                "rca": rca.reshape(-1),
                "mcp": M.reshape(-1),
                "density": density.reshape(-1),
            }
        ),
        "proximity": pd.DataFrame(
            {
                "year": year,
                "product_a": pd.arrays.ArrowExtensionArray(codes.take(a)),
                "product_b": pd.arrays.ArrowExtensionArray(codes.take(b)),
                "proximity": phi[a, b],
            }
        ),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=Path, required=True, help="Parquet of pyarrow_convert")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--level", default="hs4", choices=sorted(DIGITS))
    parser.add_argument("--save-exports", type=Path, help="also write the exports here (untimed)")
    args = parser.parse_args(argv)
    years = sorted(int(p.name.split("=")[1]) for p in args.flows.glob("year=*"))
    seconds = {"aggregation": 0.0, "indicators": 0.0, "write": 0.0}
    rows = {"flows": 0, "grid": 0, "proximity": 0}
    small: dict[str, list[pd.DataFrame]] = {"country": [], "product": []}
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for year in years:
        t0 = time.perf_counter()
        path = args.flows / f"year={year}" / "flows.parquet"
        rows["flows"] += pq.read_metadata(path).num_rows
        exports = exports_of_year(path, DIGITS[args.level])
        t1 = time.perf_counter()
        tables = year_tables(year, exports)
        t2 = time.perf_counter()
        for name in ("grid", "proximity"):
            tables[name].to_parquet(args.out / f"{name}_{year}.parquet", index=False)
            rows[name] += len(tables[name])
        small["country"].append(tables["country"])
        small["product"].append(tables["product"])
        t3 = time.perf_counter()
        seconds["aggregation"] += t1 - t0
        seconds["indicators"] += t2 - t1
        seconds["write"] += t3 - t2
        if args.save_exports is not None:
            args.save_exports.mkdir(parents=True, exist_ok=True)
            exports.assign(year=year).to_parquet(args.save_exports / f"exports_{year}.parquet")
            start += time.perf_counter() - t3  # not part of the baseline's time
    t0 = time.perf_counter()
    for name, frames in small.items():
        pd.concat(frames).to_parquet(args.out / f"{name}.parquet", index=False)
    seconds["write"] += time.perf_counter() - t0
    result = {
        "seconds": round(time.perf_counter() - start, 2),
        "level": args.level,
        "years": len(years),
        "rows": rows,
        "stage_seconds": {k: round(v, 2) for k, v in seconds.items()},
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
