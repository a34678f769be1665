"""Both writers on an S3 warehouse (a local S3 server) beside local disk (issue 24).

    .venv/bin/python bench/object_store_writers.py [--size tiny|small] [--writers arrow,spark]

Generates a SYNTHETIC release of the given size (``lib.datasets.synthetic``; ``tiny``: 3 years x
30 countries x 300 products, 4,000 flows a year; ``small``: 5 years x 150 countries, 450,000
flows a year), then runs ``./spark-submit.sh jobs/fitness.py --full-refresh`` on it, each in its
own process as a user runs it, for every writer on a local folder and on
``s3a://ecx-bench/warehouse-WRITER`` served by moto's standalone server on 127.0.0.1 (the test
suite's server, tests/s3_server.py; pip's ``moto[server]``, a dev dependency). Prints the wall
time and the seconds per stage of each run (from its run log) and the load average: the
machine is shared, compare figures of one invocation only.

What it measures is the cost of the protocol (HTTP requests, no rename, conditional puts) on a
server with no network latency and no throughput limit: a lower bound for a real object store.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_job(release: Path, warehouse: str, writer: str) -> tuple[float, dict]:
    command = [
        "./spark-submit.sh",
        "jobs/fitness.py",
        *("--source", str(release)),
        *("--warehouse", warehouse),
        *("--set", f"output.writer={writer}"),
        "--full-refresh",
    ]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    from deltalake import DeltaTable

    from lib.io.filesystems import arrow_uri

    runs = DeltaTable(arrow_uri(f"{warehouse}/run_log")).to_pyarrow_table().to_pylist()
    last = max(runs, key=lambda r: r["started_at"])
    return seconds, dict(last["stage_seconds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="tiny", choices=["tiny", "small"])
    parser.add_argument("--writers", default="arrow,spark")
    args = parser.parse_args(argv)
    from lib.datasets.synthetic import generate_release
    from lib.datasets.synthetic.catalogue import SIZES
    from tests.s3_server import S3Server, configure_environment

    port = configure_environment()  # the AWS variables the jobs inherit
    server = S3Server(port).start()
    rows = []
    try:
        server.create_bucket("ecx-bench")
        with tempfile.TemporaryDirectory(prefix="ecx-s3-bench-") as tmp:
            release = generate_release(Path(tmp) / "release", size=SIZES[args.size], seed=1)
            for writer in args.writers.split(","):
                for where, warehouse in (
                    ("local disk", f"{tmp}/warehouse-{writer}"),
                    ("S3 (moto)", f"s3a://ecx-bench/warehouse-{writer}"),
                ):
                    seconds, stages = run_job(release, warehouse, writer)
                    rows.append((writer, where, seconds, stages))
                    print(
                        f"{writer:6} {where:11} {seconds:7.1f} s  {json.dumps(stages)}", flush=True
                    )
    finally:
        server.stop()
    print(f"\nrelease: SYNTHETIC {args.size} ({SIZES[args.size]}); load average {os.getloadavg()}")
    print(f"{'writer':6} {'warehouse':11} {'wall s':>7} {'ingest':>7} {'indic.':>7} {'pred.':>7}")
    for writer, where, seconds, stages in rows:
        cells = [stages.get(k, float("nan")) for k in ("ingest", "indicators", "prediction")]
        print(f"{writer:6} {where:11} {seconds:7.1f} " + " ".join(f"{c:7.1f}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
