"""Baseline: a plain numpy Fitness loop (and ECI) over the yearly M matrices.

M (RCA >= 1) is built from the exports that ``pandas_pipeline --save-exports`` wrote, outside
the timing; then, per year, the Fitness-Complexity loop (dense mat-vecs, up to 200 steps, stop
below 1e-12) and ECI / PCI (eigenvectors of the C x C matrix) are timed, ``--repeat`` times
(default 3): ``seconds`` is the median (the upper one for an even count), ``runs`` every time.

    python -m bench.baselines.numpy_fitness --exports DIR [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.baselines.pandas_pipeline import eci_pci, fitness


def presence(exports: pd.DataFrame) -> np.ndarray:
    X = exports.pivot(index="country", columns="product", values="export_value").fillna(0.0)
    x = X.to_numpy()
    rca = (x / x.sum(axis=1, keepdims=True)) / (x.sum(axis=0, keepdims=True) / x.sum())
    return (rca >= 1.0).astype(np.float64)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exports", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the median is reported")
    args = parser.parse_args(argv)
    matrices = [
        presence(pd.read_parquet(p)) for p in sorted(args.exports.glob("exports_*.parquet"))
    ]
    runs = []
    for _ in range(max(args.repeat, 1)):
        t0 = time.perf_counter()
        steps = [fitness(M)[2] for M in matrices]
        t1 = time.perf_counter()
        for M in matrices:
            eci_pci(M)
        t2 = time.perf_counter()
        runs.append((round(t2 - t0, 2), round(t1 - t0, 2), round(t2 - t1, 2)))
    median = statistics.median_high(runs)  # the run with the median total, as the Spark script
    result = {
        "seconds": median[0],
        "fitness_seconds": median[1],
        "eci_seconds": median[2],
        "runs": [r[0] for r in runs],
        "years": len(matrices),
        "shape": list(matrices[0].shape) if matrices else None,
        "fitness_steps": steps,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
