"""The whole job on SYNTHETIC tall place x activity tables (issue 21 item 4): seconds and memory.

    .venv/bin/python bench/tall_job.py [--places 50000 100000 200000] [--activities 1000]
        [--density 0.02] [--years 2019-2020] [--masters 'local[2]' 'local[16]']
        [--set key=value ...] [--check] [--event-log]

For every place count the tall table is generated once (``lib.datasets.synthetic.tall``, cached
in ``bench/results/tall/``), then ``./spark-submit.sh --master M jobs/fitness.py --source <it>``
runs with the default config (``execution.matrix = auto``: these tables go to the distributed
path) once per master, into a fresh warehouse. Printed per run: wall seconds and seconds per
year, the CPU seconds of the process tree (less load-sensitive than wall time on a shared
machine), the distributed Fitness passes (step 2 vs the last step: the plan must not grow), the
largest Python process (the budget is 0.8 GiB) and the JVM's peak, sampled from /proc every
0.2 s (``bench/procmem.py``), the seconds of each stage (the run log), and the machine's load
average. With ``--event-log``, how the work spread over the cores (the heaviest stages'
effective parallelism). With ``--check``, each year's RCA, M, Fitness and Complexity are then
compared with the independent scipy.sparse references (``tests/reference_sparse.py``, the same
comparisons as ``tests/run/test_tall_table.py``) and the largest relative differences printed.
Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
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
PATH = re.compile(r"(\d{4}): (in_task|distributed) \(")


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


def _check(warehouse: Path, source: Path) -> str:
    """Each year's largest relative differences from the sparse references (RCA and M over the
    cells with a value; the cells without one must have RCA and M 0; Fitness and Complexity)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    from tests import reference_sparse as ref

    def table(name: str):
        return DeltaTable(str(warehouse / name)).to_pyarrow_dataset()

    rows = pq.read_table(source).to_pandas()
    log = table("run_log").to_table().to_pandas().iloc[-1]
    fitness_cfg = json.loads(log["config"])["fitness"]
    steps, tolerance = int(fitness_cfg["max_iterations"]), float(fitness_cfg["tolerance"])
    grid = table("place_activity_year")
    columns = ["year", "place", "activity", "export_value", "rca", "mcp"]
    wrong = grid.count_rows(
        filter=(ds.field("export_value") == 0) & ((ds.field("rca") != 0) | (ds.field("mcp") != 0))
    )
    assert wrong == 0, f"{wrong} cells without a value have RCA or M"
    out = []
    for year, part in rows.groupby("year"):
        matrix = ref.sparse_year(part)
        expected = ref.balassa(matrix.X)
        cells = grid.to_table(
            columns=columns, filter=(ds.field("year") == year) & (ds.field("export_value") > 0)
        ).to_pandas()
        rca = ref.rca_difference(cells, matrix, expected)
        assert expected.M.nnz == int(cells.mcp.sum())
        place_year = table("place_year").to_table(filter=pc.field("year") == year).to_pandas()
        activity_year = table("activity_year").to_table(filter=pc.field("year") == year)
        fitness, complexity = ref.fitness_difference(
            place_year,
            activity_year.to_pandas(),
            matrix,
            ref.fitness_complexity(expected.M, steps, tolerance),
        )
        out.append(
            f"{year}: RCA {rca:.1e}, Fitness {fitness:.1e}, Complexity {complexity:.1e} "
            f"(M equal, {expected.M.nnz:,} ones)"
        )
    return "; ".join(out)


def _spread(events: Path) -> str:
    """The event log's heaviest stages: tasks and effective parallelism (summed task run time /
    longest task, as /work/shared/tools/eventlog.py), and the run-time-weighted mean over the
    stages of at least a second."""
    from bench.prediction_backtest import event_log_stages

    stages = sorted(event_log_stages(events), key=lambda st: -st["run_seconds"])
    heavy = [st for st in stages if st["run_seconds"] >= 1]
    total = sum(st["run_seconds"] for st in heavy) or 1.0
    mean = sum(st["parallelism"] * st["run_seconds"] for st in heavy) / total
    top = ", ".join(
        f"{st['tasks']} tasks {st['run_seconds']:.0f} task-s x{st['parallelism']:.1f}"
        for st in stages[:3]
    )
    return f"heaviest stages: {top}; weighted mean parallelism {mean:.1f} over {len(heavy)} stages"


def _run(
    master: str, source: Path, overrides: list[str], check: bool = False, events: bool = False
) -> dict:
    warehouse = Path(tempfile.mkdtemp(prefix="bench-tall-"))
    log = warehouse.with_suffix(".log")
    spark = []
    if events:
        (warehouse / "events").mkdir()
        spark = ["--conf", "spark.eventLog.enabled=true",
                 "--conf", f"spark.eventLog.dir=file://{warehouse / 'events'}"]  # fmt: skip
    command = [str(ROOT / "spark-submit.sh"), "--master", master, *spark, "jobs/fitness.py",
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
    from deltalake import DeltaTable

    runs = DeltaTable(str(warehouse / "wh" / "run_log")).to_pandas()
    stages = dict(runs.iloc[-1]["stage_seconds"])
    checked = _check(warehouse / "wh", source) if check else ""
    spread = _spread(warehouse / "events") if events else ""
    shutil.rmtree(warehouse, ignore_errors=True)
    return {
        "stages": stages,
        "check": checked,
        "spread": spread,
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
    parser.add_argument(
        "--event-log", action="store_true", help="print how the work spread over the cores"
    )
    parser.add_argument(
        "--check", action="store_true", help="compare with the sparse references afterwards"
    )
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
            r = _run(master, source, args.overrides, args.check, args.event_log)
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
            stages = ", ".join(f"{k} {v:.0f} s" for k, v in r["stages"].items())
            print(f"{'':>10}stages: {stages}", flush=True)
            if r["spread"]:
                print(f"{'':>10}{r['spread']}", flush=True)
            if r["check"]:
                print(f"{'':>10}vs sparse references: {r['check']}", flush=True)


if __name__ == "__main__":
    main()
