"""Baseline: BACI flow CSVs -> clean -> Parquet with plain pyarrow, one file after another.

What a careful single-machine script does (no quarantine, no line numbers, no Delta): read each
yearly CSV with typed columns (pyarrow's multi-threaded reader), turn ``q`` (right-aligned with
spaces, "NA" for missing) into a float, and write ``<out>/year=<year>/flows.parquet``.

    python -m bench.baselines.pyarrow_convert --source DIR --out DIR [--years 2020,2021]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

# CEPII's release ids (V202401) and the synthetic releases' (SYNTH2401), as lib.io.baci reads them.
FLOW_FILE = re.compile(r"^BACI_HS\d{2}_Y(\d{4})_(?:V\d{6}[a-z]?|SYNTH\d{4})\.csv$")
COLUMN_TYPES = {
    "t": pa.int32(),
    "i": pa.int32(),
    "j": pa.int32(),
    "k": pa.string(),
    "v": pa.float64(),
    "q": pa.string(),
}


def convert_file(path: Path, out_dir: Path) -> int:
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=COLUMN_TYPES))
    q = pc.utf8_trim_whitespace(table.column("q"))
    quantity = pc.cast(
        pc.if_else(pc.equal(q, "NA"), None, pc.if_else(pc.equal(q, ""), None, q)), pa.float64()
    )
    clean = pa.table(
        {
            "year": table.column("t"),
            "exporter": table.column("i"),
            "importer": table.column("j"),
            "product": table.column("k"),
            "value": table.column("v"),
            "quantity": quantity,
        }
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(clean, out_dir / "flows.parquet")
    return clean.num_rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--years", default="", help="comma-separated; default: every file")
    args = parser.parse_args(argv)
    years = {int(y) for y in args.years.split(",") if y}
    files = sorted(
        (int(m[1]), p)
        for p in args.source.iterdir()
        if (m := FLOW_FILE.match(p.name)) and (not years or int(m[1]) in years)
    )
    if not files:  # a baseline that converts nothing would make any ratio look good
        sys.exit(f"no BACI flow file in {args.source}")
    start = time.perf_counter()
    per_year = {}
    rows = 0
    for year, path in files:
        t0 = time.perf_counter()
        rows += convert_file(path, args.out / f"year={year}")
        per_year[year] = round(time.perf_counter() - t0, 2)
    result = {
        "seconds": round(time.perf_counter() - start, 2),
        "rows": rows,
        "years": len(files),
        "seconds_per_year": per_year,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
