"""Cost of the distributed product space on a tall SYNTHETIC place x activity table.

``./spark-submit.sh bench/distributed_product_space.py [--places 100000] [--activities 1000]
[--density 0.02] [--pairs top_k] [--top-k 20] [--block-cells 2000000]``

Generates M's ones with numpy (SYNTHETIC: place diversities and activity ubiquities lognormal,
places favouring activities near their own position on a line, so M is nested-ish and the
proximity has structure; PCI drawn at random, SYNTHETIC), writes them to a temporary Parquet
folder, then times (untimed: the generation and write) the three steps of
``lib.execution.distributed.product_space`` with Spark's ``noop`` sink: the co-occurrence and
proximity pairs, the density / COG cells, and the z-scored COI. Prints seconds per step and the
peak resident size of the largest Python process (a Spark Python worker) and of the whole
process tree, sampled from /proc every 0.2 s (``bench/procmem.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lib.execution.distributed.product_space import (
    density_cells,
    outlook,
    place_coi,
    proximity_pairs,
)
from lib.measures.yearly import YearSettings
from lib.run.session import build_session

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # bench/ is not shipped with lib/: import it from the checkout
    sys.path.insert(0, str(ROOT))

from bench.procmem import PeakMemory, gib  # noqa: E402


def synthetic_ones(places: int, activities: int, density: float, seed: int = 0) -> pa.Table:
    """SYNTHETIC M's ones (year 2000): ~density x places x activities cells."""
    rng = np.random.default_rng(seed)
    diversity = rng.lognormal(0.0, 0.8, places)
    diversity = np.clip(
        np.round(diversity / diversity.mean() * density * activities), 1, activities
    )
    weight = rng.lognormal(0.0, 1.0, activities)
    position = rng.random(places)
    centres = np.linspace(0, 1, activities)
    place_col, activity_col = [], []
    for start in range(0, places, 5_000):  # chunks: bounded memory
        stop = min(places, start + 5_000)
        near = np.exp(-(((position[start:stop, None] - centres[None, :]) / 0.2) ** 2))
        scores = np.log(weight * near + 1e-12) + rng.gumbel(size=(stop - start, activities))
        order = np.argsort(-scores, axis=1)
        for i, d in enumerate(diversity[start:stop].astype(int)):
            place_col.append(np.full(d, start + i, np.int64))
            activity_col.append(order[i, :d])
    place = np.concatenate(place_col)
    activity = np.char.add("s", np.char.zfill(np.concatenate(activity_col).astype(str), 5))
    return pa.table(
        {
            "year": pa.array(np.full(place.size, 2000, np.int32)),
            "place": pa.array(place),
            "activity": pa.array(activity),
            "mcp": pa.array(np.ones(place.size)),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=1_000)
    parser.add_argument("--density", type=float, default=0.02)
    parser.add_argument("--pairs", default="top_k", choices=("all", "absent", "top_k"))
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--block-cells", type=int, default=2_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()

    spark = build_session(
        "bench-distributed-product-space",
        extra_conf={"spark.sql.shuffle.partitions": str(args.partitions)},
    )
    ones = synthetic_ones(args.places, args.activities, args.density)
    folder = Path(tempfile.mkdtemp(prefix="bench-ps-"))
    pq.write_table(ones, folder / "ones.parquet")
    rng = np.random.default_rng(1)
    codes = np.unique(ones.column("activity").to_numpy(zero_copy_only=False))
    pci = pa.table(
        {
            "year": pa.array(np.full(codes.size, 2000, np.int32)),
            "activity": codes,
            "pci": rng.normal(size=codes.size),
        }
    )
    pq.write_table(pci, folder / "pci.parquet")
    M = spark.read.parquet(str(folder / "ones.parquet"))
    pci_df = spark.read.parquet(str(folder / "pci.parquet"))
    print(
        f"SYNTHETIC table: {args.places:,} places x {codes.size:,} activities, "
        f"{ones.num_rows:,} ones ({ones.num_rows / args.places / codes.size:.2%}); "
        f"density_pairs={args.pairs} top_k={args.top_k} block_cells={args.block_cells:,} "
        f"partitions={args.partitions} master={spark.conf.get('spark.master', '?')}"
    )
    settings = YearSettings(density_pairs=args.pairs, density_top_k=args.top_k)
    root = os.getppid()  # spark-submit's JVM: the Python workers are in its tree
    timings = {}
    with PeakMemory(root, interval=0.2) as peak:
        rows, cooc = outlook(M, pci_df, settings, args.partitions, args.block_cells)
        start = time.perf_counter()
        cooc = cooc.persist()
        pairs = proximity_pairs(cooc)
        pairs.write.format("noop").mode("overwrite").save()
        timings["cooccurrence + proximity pairs"] = time.perf_counter() - start
        start = time.perf_counter()
        rows = rows.persist()
        cells = density_cells(rows)
        cells.write.format("noop").mode("overwrite").save()
        timings[f"density / COG cells ({args.pairs})"] = time.perf_counter() - start
        start = time.perf_counter()
        place_coi(rows, settings.normalization).write.format("noop").mode("overwrite").save()
        timings["COI (z-score)"] = time.perf_counter() - start
        n_pairs, n_cells = pairs.count(), cells.count()
        n_blocks = rows.select("block").distinct().count()
    for step, seconds in timings.items():
        print(f"{step:40s} {seconds:8.1f} s")
    print(f"{'total':40s} {sum(timings.values()):8.1f} s")
    print(f"proximity pairs {n_pairs:,}; density cells {n_cells:,}; blocks {n_blocks}")
    print(f"largest Python process peak RSS {gib(peak.python)} GiB; tree peak {gib(peak.rss)} GiB")


if __name__ == "__main__":
    main()
