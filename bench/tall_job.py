"""The whole job on SYNTHETIC tall place x activity tables (issue 21 item 4): seconds and memory.

    .venv/bin/python bench/tall_job.py [--places 50000 100000 200000] [--activities 1000]
        [--density 0.02] [--years 2019-2020] [--masters 'local[2]' 'local[16]']
        [--set key=value ...]

For every place count the tall table is generated once (``lib.datasets.synthetic.tall``, cached
in ``bench/results/tall/``), then ``./spark-submit.sh --master M jobs/fitness.py --source <it>``
runs with the default config (``execution.matrix = auto``: these tables go to the distributed
path) once per master, into a fresh warehouse. Printed per run: wall seconds and seconds per
year, the CPU seconds of the process tree (less load-sensitive than wall time on a shared
machine), the distributed Fitness passes (step 2 vs the last step: the plan must not grow), the
largest Python process (the budget is 0.8 GiB) and the JVM's peak, sampled from /proc every
0.2 s (``bench/procmem.py``), and the machine's load average. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # bench/ is not shipped with lib/: import it from the checkout
    sys.path.insert(0, str(ROOT))

from bench.procmem import children_cpu_seconds, gib, wait_with_peak  # noqa: E402

CACHE = ROOT / "bench" / "results" / "tall"
FITNESS = re.compile(
    r"distributed Fitness: (\d+) passes in ([\d.]+) s; step 2 ([\d.]+) s, last step ([\d.]+) s"
)
PATH = re.compile(r"matrix \(\w+\): (\d{4}): (\w+)")


def _table(places: int, activities: int, density: float, years: str) -> Path:
    folder = CACHE / f"p{places}_a{activities}_d{density}_y{years}"
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "lib.datasets.synthetic.tall", "--places", str(places),
             "--activities", str(activities), "--density", str(density), "--years", years,
             "--out", str(folder)],
            cwd=ROOT, check=True,
        )  # fmt: skip
        (folder / ".complete").touch()
    return folder


def _run(master: str, source: Path, overrides: list[str]) -> dict:
    warehouse = Path(tempfile.mkdtemp(prefix="bench-tall-"))
    log = warehouse.with_suffix(".log")
    command = [str(ROOT / "spark-submit.sh"), "--master", master, "jobs/fitness.py",
               "--source", str(source), "--warehouse", str(warehouse / "wh")]  # fmt: skip
    for item in overrides:
        command += ["--set", item]
    cpu = children_cpu_seconds()
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        code, peak, seconds, cpu_seconds = wait_with_peak(process, cpu, interval=0.2)
    text = log.read_text(errors="replace")
    if code != 0:
        print(text[-4000:])
        raise SystemExit(f"job failed ({code}); log {log}")
    shutil.rmtree(warehouse, ignore_errors=True)
    return {
        "seconds": seconds,
        "cpu": cpu_seconds,
        "python": peak.python,
        "rss": peak.rss,
        "paths": sorted(set(PATH.findall(text))),
        "fitness": FITNESS.findall(text),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, nargs="+", default=[50_000, 100_000, 200_000])
    parser.add_argument("--activities", type=int, default=1_000)
    parser.add_argument("--density", type=float, default=0.02)
    parser.add_argument("--years", default="2019-2020")
    parser.add_argument("--masters", nargs="+", default=["local[2]", "local[16]"])
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    n_years = len(range(int(args.years[:4]), int(args.years[-4:]) + 1))
    print(
        f"SYNTHETIC tall tables: {args.activities:,} activities, {args.density:.0%} nonzero, "
        f"years {args.years}; {os.cpu_count()} cores; overrides {args.overrides or 'none'}"
    )
    for places in args.places:
        source = _table(places, args.activities, args.density, args.years)
        nonzeros = int(places * args.activities * args.density)
        for master in args.masters:
            load = os.getloadavg()[0]
            r = _run(master, source, args.overrides)
            steps = "; ".join(
                f"{n} passes, step 2 {a} s, last {b} s" for n, _, a, b in r["fitness"]
            )
            print(
                f"{places:>8,} places (~{nonzeros:,} nonzeros/yr) {master:>10}: "
                f"{r['seconds']:.0f} s wall ({r['seconds'] / n_years:.0f} s/yr), "
                f"{r['cpu']:.0f} CPU s; largest Python {gib(r['python']):.2f} GiB, "
                f"tree {gib(r['rss']):.2f} GiB; paths {r['paths']}; Fitness {steps or '-'}; "
                f"load {load:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
