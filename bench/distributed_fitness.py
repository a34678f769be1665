"""Seconds per step of the distributed Fitness iteration: step 2 against the last step.

``./spark-submit.sh bench/distributed_fitness.py [--places 100000] [--activities 1000]
[--density 0.02] [--steps 200] [--method tacchella] [--partitions 8]``

M's ones are the SYNTHETIC table of ``bench/distributed_product_space.py`` (lognormal
diversities and ubiquities, nested-ish), written to a temporary Parquet folder; then
``lib.execution.distributed.fitness`` runs ``--steps`` steps (tolerance 0: every step) and the
script prints the seconds of step 2, of the last step and the median, so that one sees whether
the plan grows with the step count (it must not), and the largest Python process
(``bench/procmem.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.distributed_product_space import synthetic_ones  # noqa: E402
from bench.procmem import PeakMemory, gib  # noqa: E402
from lib.execution.distributed.cooccurrence import activity_index, indexed_ones  # noqa: E402
from lib.execution.distributed.fitness import cached_ones, distributed_fitness  # noqa: E402
from lib.measures.yearly import YearSettings  # noqa: E402
from lib.run.session import build_session  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=1_000)
    parser.add_argument("--density", type=float, default=0.02)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--method", default="tacchella")
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()
    spark = build_session(
        "bench-distributed-fitness",
        extra_conf={"spark.sql.shuffle.partitions": str(args.partitions)},
    )
    ones = synthetic_ones(args.places, args.activities, args.density)
    folder = Path(tempfile.mkdtemp(prefix="bench-fitness-"))
    pq.write_table(ones, folder / "ones.parquet")
    M = spark.read.parquet(str(folder))
    index = activity_index(M).persist()
    cached = cached_ones(indexed_ones(M, index), args.partitions)
    sizes = {
        r["year"]: r["activities"] for r in index.select("year", "activities").distinct().collect()
    }
    cached.count()
    settings = YearSettings(fitness_method=args.method, max_iterations=args.steps, tolerance=0.0)
    root = os.getppid()  # spark-submit's JVM: the Python workers are in its tree
    with PeakMemory(root, interval=0.2) as peak:
        start = time.perf_counter()
        run = distributed_fitness(spark, cached, sizes, settings)
        total = time.perf_counter() - start
    s = run.pass_seconds
    print(
        f"SYNTHETIC table: {args.places:,} places x {args.activities:,} activities, "
        f"{ones.num_rows:,} ones; {args.method}, {len(s)} passes, {total:.1f} s in all"
    )
    print(f"step 2: {s[1]:.3f} s   last step: {s[-1]:.3f} s   median: {np.median(s):.3f} s")
    print(f"largest Python process: {gib(peak.python):.2f} GiB")
    spark.stop()


if __name__ == "__main__":
    main()
