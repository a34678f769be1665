"""Speed and peak memory of the SYNTHETIC tall place x activity generator (lib.datasets.synthetic.tall).

``.venv/bin/python bench/generate_tall.py [--places 100000 200000] [--activities 1000]
[--density 0.02] [--years 2019-2020]``

Runs ``python -m lib.datasets.synthetic.tall`` once per place count, in a child process, into a
temporary folder, and prints its wall and CPU seconds, rows written, size on disk and the peak
resident size of the process, sampled from /proc every 0.2 s (``bench/procmem.py``). The peak
should not grow with the places: the generator holds one block of places at a time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # bench/ is not shipped with lib/: import it from the checkout
    sys.path.insert(0, str(ROOT))

from bench.procmem import children_cpu_seconds, gib, wait_with_peak  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, nargs="+", default=[100_000, 200_000])
    parser.add_argument("--activities", type=int, default=1_000)
    parser.add_argument("--density", type=float, default=0.02)
    parser.add_argument("--years", default="2019-2020")
    args = parser.parse_args()
    print("places  activities  years      rows        MB   wall s  CPU s  peak RSS GiB")
    for places in args.places:
        with tempfile.TemporaryDirectory(prefix="tall_bench_") as out:
            command = [
                sys.executable,
                *("-m", "lib.datasets.synthetic.tall", "--places", str(places)),
                *("--activities", str(args.activities), "--density", str(args.density)),
                *("--years", args.years, "--out", out),
            ]
            cpu = children_cpu_seconds()
            process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
            code, peak, wall, cpu_seconds = wait_with_peak(process, cpu, 0.2)
            if code:
                raise SystemExit(f"the generator failed ({code}): {' '.join(command)}")
            files = list(Path(out).glob("*.parquet"))
            rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
            size = sum(f.stat().st_size for f in files) / 2**20
        print(
            f"{places:>6}  {args.activities:>10}  {args.years:<9} {rows:>9}  {size:>7.0f}"
            f"  {wall:>7.1f}  {cpu_seconds:>5.1f}  {gib(peak.rss):>12}"
        )


if __name__ == "__main__":
    main()
