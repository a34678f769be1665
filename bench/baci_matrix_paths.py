"""BACI years through both matrix paths (issue 21 item 4: "in-task vs distributed on BACI HS6
years, honestly"): seconds, CPU and memory of each, and whether their tables agree.

    .venv/bin/python bench/baci_matrix_paths.py --release data/generated/full [--years 2018-2020]
        [--level hs6] [--master 'local[2]'] [--rtol 1e-9]

For ``execution.matrix`` = ``in_task`` and then ``distributed``, ``./spark-submit.sh jobs/fitness.py``
runs on the same release years into a fresh warehouse (ingest included, the same work on both
sides; ``prediction.enabled = false``: the paths differ only in the indicators). Printed per
path: wall and CPU seconds of the process tree, each stage's seconds (run log), the largest
Python process and the whole tree's peak (``bench/procmem.py``, sampled every 0.2 s); then
``bench/compare_warehouses.py`` on the two warehouses (exit status and its table lines). The
release is whatever ``--release`` holds (``bench/run_benchmark.py`` generates the SYNTHETIC
30-year one into ``data/generated/full``). Nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # bench/ is not shipped with lib/: import it from the checkout
    sys.path.insert(0, str(ROOT))

from bench.procmem import children_cpu_seconds, gib, wait_with_peak  # noqa: E402
from bench.run_benchmark import last_run_log  # noqa: E402

PATHS = ("in_task", "distributed")


def run_path(path: str, args: argparse.Namespace, warehouse: Path) -> dict:
    """One job on ``path``: wall, CPU, peaks and the run log's stage seconds."""
    command = [str(ROOT / "spark-submit.sh"), "--master", args.master, "jobs/fitness.py",
               "--source", str(args.release), "--warehouse", str(warehouse),
               "--years", args.years, "--set", f"products.level={args.level}",
               "--set", f"execution.matrix={path}", "--set", "prediction.enabled=false"]  # fmt: skip
    log = warehouse.with_suffix(".log")
    cpu = children_cpu_seconds()
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        code, peak, seconds, cpu_seconds = wait_with_peak(process, cpu, interval=0.2)
    if code != 0:
        print(log.read_text(errors="replace")[-4000:])
        raise SystemExit(f"{path}: job failed ({code}); log {log}")
    run = last_run_log(warehouse)
    return {
        "seconds": seconds,
        "cpu": cpu_seconds,
        "python": peak.python,
        "rss": peak.rss,
        "stages": run["stage_seconds"],
        "row_counts": run["row_counts"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", type=Path, required=True)
    parser.add_argument("--years", default="2018-2020")
    parser.add_argument("--level", default="hs6")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--rtol", default="1e-9")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-baci-paths-"))
    print(
        f"release {args.release}, years {args.years}, {args.level}, {args.master}, "
        f"{os.cpu_count()} cores, load {[round(x, 1) for x in os.getloadavg()]}"
    )
    print("| path | wall s | CPU s | ingest s | indicators s | largest Python GiB | tree GiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    counts = {}
    for path in PATHS:
        r = run_path(path, args, work / path)
        counts[path] = r["row_counts"]
        stages = r["stages"]
        print(
            f"| {path} | {r['seconds']:.1f} | {r['cpu']:.1f} | {stages.get('ingest', 0):.1f} | "
            f"{stages.get('indicators', 0):.1f} | {gib(r['python']):.2f} | {gib(r['rss']):.2f} |",
            flush=True,
        )
    compare = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "compare_warehouses.py"),
         str(work / "in_task"), str(work / "distributed"), "--rtol", args.rtol],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    print(f"compare_warehouses --rtol {args.rtol}: exit {compare.returncode}")
    print(compare.stdout.strip())
    differ = {k: (counts["in_task"].get(k), counts["distributed"].get(k))
              for k in counts["in_task"].keys() | counts["distributed"].keys()
              if counts["in_task"].get(k) != counts["distributed"].get(k)}  # fmt: skip
    print(f"run log row counts that differ (in_task, distributed): {differ or 'none'}")
    print(f"load at the end {[round(x, 1) for x in os.getloadavg()]}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
