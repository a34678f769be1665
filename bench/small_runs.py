"""How long a user waits on small runs (issue 15, "less waiting on small runs").

    .venv/bin/python bench/small_runs.py [--repeat 2]

Times, each through ``./spark-submit.sh`` in its own process as a user runs them:

- ``floor``: a minimal Spark job that writes a 10-row Delta table (JVM start, session, one
  Delta commit): what any job pays;
- ``fitness_full_refresh``: the default job on the embedded release, ``--full-refresh``;
- ``fitness_unchanged``: the same job again, incremental (nothing changed);
- ``report``: the country report job on that warehouse.

and prints each wall time, its excess over the floor, and the Spark jobs and Delta commits the
run made (from a Spark event log and the tables' ``_delta_log`` folders). The target: the
default job at most 20 s above the floor. Timings depend on the machine's load: the script
prints the load average beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR_JOB = """
import sys
from lib.run.session import build_session
spark = build_session("floor")
spark.range(10).write.format("delta").mode("overwrite").save(sys.argv[1])
spark.stop()
"""


def _spark_jobs(event_dir: Path) -> int:
    """Spark jobs started, from the event log(s) in ``event_dir`` (plain or zstd files)."""
    count = 0
    for path in event_dir.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".zstd":
            import zstandard

            data = zstandard.ZstdDecompressor().stream_reader(data).read()
        count += data.count(b'"Event":"SparkListenerJobStart"')
    return count


def _delta_commits(warehouse: Path, since: dict[str, int]) -> dict[str, int]:
    """Commits per table made after ``since`` (table -> number of commit files before)."""
    made = {}
    for log in sorted(warehouse.glob("*/_delta_log")):
        n = len(list(log.glob("*.json")))
        if n - since.get(log.parent.name, 0):
            made[log.parent.name] = n - since.get(log.parent.name, 0)
    return made


def _commit_counts(warehouse: Path) -> dict[str, int]:
    return {
        log.parent.name: len(list(log.glob("*.json"))) for log in warehouse.glob("*/_delta_log")
    }


def timed(name: str, args: list[str], work: Path, warehouse: Path | None) -> dict:
    events = work / f"events-{name}-{time.time_ns()}"
    events.mkdir()
    before = _commit_counts(warehouse) if warehouse and warehouse.exists() else {}
    command = [
        str(ROOT / "spark-submit.sh"),
        "--conf",
        "spark.eventLog.enabled=true",
        "--conf",
        f"spark.eventLog.dir={events.as_uri()}",
        "--conf",
        "spark.eventLog.compress=false",
        *args,
    ]
    env = {**os.environ, "ECX_PROGRESS": "0"}
    start = time.perf_counter()
    result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        sys.exit(f"{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    commits = _delta_commits(warehouse, before) if warehouse else {}
    return {
        "seconds": seconds,
        "spark_jobs": _spark_jobs(events),
        "delta_commits": sum(commits.values()),
        "commits_by_table": commits,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each (median reported)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ecx-small-runs-"))
    floor_script = work / "floor_job.py"
    floor_script.write_text(FLOOR_JOB)
    warehouse = work / "warehouse"
    runs = {
        "floor": ([str(floor_script), str(work / "floor_table")], None),
        "fitness_full_refresh": (
            [str(ROOT / "jobs/fitness.py"), "--full-refresh", "--warehouse", str(warehouse)],
            warehouse,
        ),
        "fitness_unchanged": (
            [str(ROOT / "jobs/fitness.py"), "--warehouse", str(warehouse)],
            warehouse,
        ),
        "report": (
            [
                str(ROOT / "jobs/report.py"),
                "--warehouse",
                str(warehouse),
                "--out",
                str(work / "report"),
            ],
            warehouse,
        ),
    }
    load = os.getloadavg()
    results: dict[str, list[dict]] = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, (job_args, wh) in runs.items():
            results[name].append(timed(name, job_args, work, wh))
    summary = {}
    for name, samples in results.items():
        summary[name] = {**samples[-1], "seconds": statistics.median(s["seconds"] for s in samples)}
    floor = summary["floor"]["seconds"]
    print(
        f"Small runs, median of {args.repeat}; load average {[round(x, 2) for x in load]} at start"
    )
    print(
        f"{'run':<22} {'seconds':>8} {'above floor':>12} {'Spark jobs':>11} {'Delta commits':>14}"
    )
    for name, row in summary.items():
        print(
            f"{name:<22} {row['seconds']:>8.1f} {row['seconds'] - floor:>12.1f} "
            f"{row['spark_jobs']:>11} {row['delta_commits']:>14}"
        )
    excess = summary["fitness_full_refresh"]["seconds"] - floor
    print(
        f"default job above the floor: {excess:.1f} s (target <= 20 s): {'met' if excess <= 20 else 'NOT met'}"
    )
    print(json.dumps({k: v["commits_by_table"] for k, v in summary.items()}, indent=1))
    if args.keep:
        print(f"work folder: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
