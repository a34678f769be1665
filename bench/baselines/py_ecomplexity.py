"""Baseline: py-ecomplexity (package ``ecomplexity``): ECI, PCI, density, COI and COG.

Runs ``ecomplexity`` year by year on the exports that ``pandas_pipeline --save-exports`` wrote
(the same country x product exports the pipeline aggregates), RCA >= 1 presence, its
log-supermodularity check off (it is a diagnostic, not an indicator). ``--years N`` runs only
the first N years (about a minute each at HS6); the result gives seconds per year.

    python -m bench.baselines.py_ecomplexity --exports DIR [--years 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
import warnings
from pathlib import Path

import pandas as pd


def main(argv: list[str] | None = None) -> dict:
    from ecomplexity import ecomplexity

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exports", type=Path, required=True)
    parser.add_argument("--years", type=int, default=0, help="only the first N years (0 = all)")
    args = parser.parse_args(argv)
    paths = sorted(args.exports.glob("exports_*.parquet"))
    available = len(paths)
    if args.years:
        paths = paths[: args.years]
    cols = {"time": "year", "loc": "country", "prod": "product", "val": "export_value"}
    per_year = {}
    for path in paths:
        data = pd.read_parquet(path)
        year = int(data["year"].iloc[0])
        start = time.perf_counter()
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            ecomplexity(data, cols, check_logsupermodularity=False, verbose=False)
        per_year[year] = round(time.perf_counter() - start, 2)
    mean = sum(per_year.values()) / len(per_year) if per_year else float("nan")
    result = {
        "seconds": round(sum(per_year.values()), 2),
        "years": len(per_year),
        "years_available": available,
        "seconds_per_year": per_year,
        "mean_seconds_per_year": round(mean, 2),
        "estimated_seconds_all_years": round(mean * available, 1),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
