"""Full-scale benchmark: a synthetic BACI release through the pipeline, side by side with
single-machine baselines on the same data. Results: bench/results/<timestamp>.json and .md.

    ./spark-submit.sh --bench                                           # 30 years (25-40 minutes)
    ./spark-submit.sh --bench --years 3 --ecomplexity-years 1           # quick check

Steps (each in its own process; peak memory = resident size of its whole process tree):

1. data: the full-width synthetic release (227 countries, ~5,000 HS6 products, ~9 million
   flows a year) in data/generated/full, generated once (2 processes) and reused; the last
   ``--years`` years of 1995-2024 are benchmarked;
2. baseline: plain pyarrow CSV -> clean -> Parquet;
3. pipeline, full run: ``./spark-submit.sh jobs/fitness.py --full-refresh`` (ingest, then
   indicators at ``--level``, default hs4), stage times from its run_log row;
4. pipeline, incremental runs: nothing changed; a new release revising one year; one new year;
5. pipeline at HS6: indicators only (``--no-ingest --set products.level=hs6``), and the
   Fitness + ECI stage alone (bench/spark_fitness_eci.py, median of 3 runs like the numpy loop);
6. baselines: plain pandas / numpy indicators (hs4 and hs6), a plain numpy Fitness loop (HS6),
   py-ecomplexity at HS6 (``--ecomplexity-years`` years, about a minute each; 0 = all).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.procmem import children_cpu_seconds, gib, wait_with_peak  # noqa: E402

PY = sys.executable
FULL_YEARS = range(1995, 2025)
TARGETS = {  # name: (largest allowed ratio ours / baseline, or seconds / GiB)
    "ingest_vs_pyarrow": 3.0,
    "indicators_vs_pandas": 3.0,
    "fitness_eci_vs_numpy": 3.0,
    "speedup_vs_py_ecomplexity": 10.0,  # at least
    "speedup_vs_py_ecomplexity_with_proximity_table": 10.0,
    "cpu_vs_pyarrow_plus_pandas": 3.0,  # not a target of the issue: load-independent check
    "whole_pipeline_minutes": 15.0,
    "peak_memory_gib": 12.0,
}


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


# --- running things ------------------------------------------------------------------------


def run_measured(name: str, command: list[str], logs: Path, env: dict | None = None) -> dict:
    """Run a command in its own process; wall time, peak memory of its tree, its last JSON line."""
    log(f"{name}: {' '.join(str(c) for c in command)}")
    out_path = logs / f"{name}.log"
    cpu_before = children_cpu_seconds()
    with open(out_path, "w") as out:
        process = subprocess.Popen(
            [str(c) for c in command],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
        code, peak, seconds, cpu = wait_with_peak(process, cpu_before)
    if code != 0:
        tail = out_path.read_text(errors="replace").splitlines()[-30:]
        raise SystemExit(f"{name} failed ({code}); end of {out_path}:\n" + "\n".join(tail))
    result = {
        "wall_seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "load_average": load_average(),
        "peak_rss_gib": gib(peak.rss),
        "peak_pss_gib": gib(peak.pss),
    }
    for line in reversed(out_path.read_text(errors="replace").splitlines()):
        if line.startswith("{") and line.endswith("}"):
            result["output"] = json.loads(line)
            break
    log(
        f"{name}: {result['wall_seconds']} s ({result['cpu_seconds']} CPU s), "
        f"peak RSS {result['peak_rss_gib']} GiB, load {result['load_average']}"
    )
    return result


def last_run_log(warehouse: Path) -> dict:
    """stage_seconds, row_counts and years of the latest run in the warehouse's run_log."""
    from deltalake import DeltaTable

    runs = DeltaTable(str(warehouse / "run_log")).to_pandas()
    last = runs.sort_values("finished_at").iloc[-1]
    return {
        "run_id": last["run_id"],
        "years": [int(y) for y in (last["years"] if last["years"] is not None else [])],
        "stage_seconds": dict(last["stage_seconds"] or []),
        "row_counts": {k: int(v) for k, v in dict(last["row_counts"] or []).items()},
    }


def spark_job(name: str, args: list[str], logs: Path, spark_opts: list[str]) -> dict:
    result = run_measured(name, [ROOT / "spark-submit.sh", *spark_opts, *args], logs)
    warehouse = Path(args[args.index("--warehouse") + 1]) if "--warehouse" in args else None
    if warehouse is not None and (warehouse / "run_log").exists() and "jobs/fitness.py" in args:
        result["run_log"] = last_run_log(warehouse)
    return result


# --- data ----------------------------------------------------------------------------------


def flow_path(data: Path, year: int) -> Path:
    from lib.datasets.synthetic import flow_file_name

    return data / flow_file_name(year)


def ensure_years(data: Path, years: list[int], workers: int) -> float:
    """Generate the missing years of the full-width release (kept for later runs)."""
    from lib.datasets.synthetic import generate_release

    missing = [y for y in years if not flow_path(data, y).is_file()]
    if not missing:
        return 0.0
    log(f"generating {len(missing)} full-width years into {data} ({workers} processes)")
    start = time.perf_counter()
    generate_release(
        data,
        size="full",
        years=missing,
        workers=workers,
        progress=lambda y, n, s: log(f"  generated {y}: {n:,} flows in {s:.0f} s"),
    )
    return round(time.perf_counter() - start, 1)


def release_view(data: Path, view: Path, years: list[int]) -> Path:
    """A release folder of symbolic links to the chosen years (and the code lists)."""
    shutil.rmtree(view, ignore_errors=True)
    view.mkdir(parents=True)
    for path in data.iterdir():
        if path.name.startswith(("country_codes_", "product_codes_")):
            (view / path.name).symlink_to(path)
    for year in years:
        (view / flow_path(data, year).name).symlink_to(flow_path(data, year))
    return view


def revise_year(view: Path, data: Path, year: int, work: Path) -> None:
    """A new release of one year: a copy with one flow value changed replaces the link."""
    source = flow_path(data, year)
    revised = work / "revised" / source.name
    revised.parent.mkdir(parents=True, exist_ok=True)
    with open(source) as src, open(revised, "w") as dst:
        header, first = src.readline(), src.readline().split(",")
        first[4] = f"{float(first[4]) * 1.5:.3f}"
        dst.write(header + ",".join(first))
        shutil.copyfileobj(src, dst, 1 << 24)
    (view / source.name).unlink()
    (view / source.name).symlink_to(revised)


# --- report --------------------------------------------------------------------------------


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform()}
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        mem = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        info.update(cpu=cpu, cores=os.cpu_count(), memory_gib=round(mem / 2**20, 1))
    except (OSError, StopIteration):
        info.update(cores=os.cpu_count())
    try:
        import pyspark

        info["pyspark"] = pyspark.__version__
        from importlib.metadata import version

        info["delta_spark"] = version("delta-spark")
    except ImportError:
        pass
    return info


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def targets(results: dict) -> list[dict]:
    runs = results["runs"]
    rows = []

    def add(name, ours, baseline, value, note=""):
        limit = TARGETS[name]
        met = value >= limit if name.startswith("speedup") else value <= limit
        rows.append(
            {
                "target": name,
                "ours": ours,
                "baseline": baseline,
                "value": round(value, 2),
                "limit": limit,
                "met": bool(met),
                "note": note,
            }
        )

    full = runs.get("spark_full")
    if full and "pyarrow_convert" in runs:
        ingest = full["run_log"]["stage_seconds"]["ingest"]
        base = runs["pyarrow_convert"]["output"]["seconds"]
        add("ingest_vs_pyarrow", ingest, base, ingest / base)
    if full and "pandas_hs4" in runs:
        ours = full["run_log"]["stage_seconds"]["indicators"]
        base = runs["pandas_hs4"]["output"]["seconds"]
        add("indicators_vs_pandas", ours, base, ours / base, "hs4, all years")
    if "spark_fitness_eci_hs6" in runs and "numpy_fitness_hs6" in runs:
        ours = runs["spark_fitness_eci_hs6"]["output"]["seconds"]
        base = runs["numpy_fitness_hs6"]["output"]["seconds"]
        times = (
            runs["spark_fitness_eci_hs6"]["output"].get("runs"),
            runs["numpy_fitness_hs6"]["output"].get("runs"),
        )
        note = f"HS6, Spark stage from M; medians of runs {times[0]} and {times[1]}"
        add("fitness_eci_vs_numpy", ours, base, ours / base, note)
    if "spark_hs6_no_proximity_table" in runs and "py_ecomplexity_hs6" in runs:
        ours = runs["spark_hs6_no_proximity_table"]["run_log"]["stage_seconds"]["indicators"]
        base = runs["py_ecomplexity_hs6"]["output"]["estimated_seconds_all_years"]
        note = (
            f"py-ecomplexity measured on {runs['py_ecomplexity_hs6']['output']['years']} "
            "year(s), scaled to all; ours: every indicator from the flows (aggregation "
            "included), all tables but product_proximity"
        )
        add("speedup_vs_py_ecomplexity", ours, base, base / ours, note)
        with_table = runs["spark_hs6"]["run_log"]["stage_seconds"]["indicators"]
        note = "the same, product_proximity (both orders) written too"
        add(
            "speedup_vs_py_ecomplexity_with_proximity_table",
            with_table,
            base,
            base / with_table,
            note,
        )
    if full and "pyarrow_convert" in runs and "pandas_hs4" in runs:
        base = runs["pyarrow_convert"]["cpu_seconds"] + runs["pandas_hs4"]["cpu_seconds"]
        note = "CPU seconds of the process trees: less sensitive to other load than wall time"
        add(
            "cpu_vs_pyarrow_plus_pandas",
            full["cpu_seconds"],
            base,
            full["cpu_seconds"] / base,
            note,
        )
    if full:
        add("whole_pipeline_minutes", full["wall_seconds"], None, full["wall_seconds"] / 60)
    spark_runs = [r for k, r in runs.items() if k.startswith("spark_")]
    if spark_runs:
        peak = max(r["peak_rss_gib"] for r in spark_runs)
        add("peak_memory_gib", peak, None, peak, "RSS of the job's process tree, worst run")
    return rows


def markdown(results: dict) -> str:
    m, cfg = results["machine"], results["config"]
    lines = [
        f"### Benchmark {results['started']}: {cfg['years']} years, pipeline at {cfg['level']}",
        "",
        f"Machine: {m.get('cpu', '?')}, {m.get('cores')} cores, {m.get('memory_gib', '?')} GiB; "
        f"Spark {m.get('pyspark')} local mode, Delta {m.get('delta_spark')}; load average "
        f"{results['load_average']['start']} at start, {results['load_average']['end']} at end. "
        f"Data: {results['data']['flows']:,} flows, {results['data']['csv_gib']} GiB of CSV.",
        "",
        "| target | ours | baseline | value | limit | met |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for t in results["targets"]:
        base = "" if t["baseline"] is None else t["baseline"]
        lines.append(
            f"| {t['target']} | {t['ours']} | {base} | {t['value']} | {t['limit']} | "
            f"{'yes' if t['met'] else '**no**'} |"
        )
    lines += [
        "",
        "| run | wall s | CPU s | peak RSS GiB | load after | details |",
        "|---|---:|---:|---:|---|---|",
    ]
    for name, run in results["runs"].items():
        details = ""
        if "run_log" in run:
            rl = run["run_log"]
            details = f"stages {rl['stage_seconds']}; years computed {len(rl['years'])}"
            rows = rl["row_counts"].get("ingest.rows_read")
            if rows and rl["stage_seconds"].get("ingest"):
                details += f"; ingest {rows / rl['stage_seconds']['ingest']:,.0f} rows/s"
            seconds = rl["stage_seconds"].get("indicators")
            if seconds and len(rl["years"]) == results["config"]["years"]:  # every flow read
                details += f"; indicators {results['data']['flows'] / seconds:,.0f} flows/s"
        elif "output" in run:
            out = run["output"]
            details = ", ".join(  # short lists (repeated timings) too, not per-year ones
                f"{k} {v}"
                for k, v in out.items()
                if not isinstance(v, dict) and not (isinstance(v, list) and len(v) > 5)
            )
        lines.append(
            f"| {name} | {run['wall_seconds']} | {run['cpu_seconds']} | {run['peak_rss_gib']} "
            f"| {run['load_average'][:1]} | {details} |"
        )
    return "\n".join(lines) + "\n"


# --- main ----------------------------------------------------------------------------------


class SavedRuns(dict):
    """The runs so far, saved after each one (``<stamp>.json.tmp``): a benchmark stopped
    midway still leaves its measurements."""

    def __init__(self, path: Path, results: dict):
        super().__init__()
        self.path, self.results = path, results
        path.parent.mkdir(parents=True, exist_ok=True)

    def __setitem__(self, name: str, run: dict) -> None:
        super().__setitem__(name, run)
        partial = {**self.results, "runs": dict(self)}
        self.path.write_text(json.dumps(partial, indent=2, default=str) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=30, help="the last N years of 1995-2024")
    parser.add_argument("--level", default="hs4", choices=("hs2", "hs4", "hs6"))
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "generated" / "full")
    parser.add_argument("--work", type=Path, default=ROOT / "data" / "generated" / "bench")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--workers", type=int, default=2, help="processes generating the data")
    parser.add_argument(
        "--ecomplexity-years", type=int, default=2, help="py-ecomplexity years (0 = all)"
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=("incremental", "hs6", "baselines", "ecomplexity"),
        help="leave out a part (repeatable)",
    )
    parser.add_argument("--event-logs", action="store_true", help="keep Spark event logs")
    args = parser.parse_args(argv)
    if not 1 <= args.years <= len(FULL_YEARS):
        parser.error(f"--years must be between 1 and {len(FULL_YEARS)}")

    years = list(FULL_YEARS)[-args.years :]
    span = f"{years[0]}-{years[-1]}"
    work, data = args.work.resolve(), args.data.resolve()
    shutil.rmtree(work, ignore_errors=True)
    logs = work / "logs"
    logs.mkdir(parents=True)
    spark_opts = []
    if args.event_logs:
        (work / "events").mkdir()
        spark_opts = [
            "--conf", "spark.eventLog.enabled=true",
            "--conf", f"spark.eventLog.dir={work / 'events'}",
        ]  # fmt: skip
    started = datetime.now(UTC)
    results: dict = {
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "config": {"years": args.years, "span": span, "level": args.level, "argv": sys.argv[1:]},
        "load_average": {"start": load_average()},
        "runs": {},
    }
    runs = SavedRuns(args.out / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json.tmp", results)

    generate_seconds = ensure_years(data, years, args.workers)
    csv_bytes = sum(flow_path(data, y).stat().st_size for y in years)
    view = release_view(data, work / "release", years)
    from lib.datasets.synthetic.release import _count_rows

    flows = sum(_count_rows(flow_path(data, y)) for y in years)
    results["data"] = {
        "path": str(data),
        "span": span,
        "flows": flows,
        "csv_gib": round(csv_bytes / 2**30, 2),
        "generate_seconds": generate_seconds,
    }
    warehouse = work / "warehouse"
    job = ["jobs/fitness.py", "--source", view, "--warehouse", warehouse]
    level = ["--set", f'products.level="{args.level}"']

    if "baselines" not in args.skip:
        runs["pyarrow_convert"] = run_measured(
            "pyarrow_convert",
            [
                PY,
                "-m",
                "bench.baselines.pyarrow_convert",
                "--source",
                view,
                "--out",
                work / "parquet",
            ],
            logs,
        )
    runs["spark_full"] = spark_job("spark_full", [*job, *level, "--full-refresh"], logs, spark_opts)

    if "incremental" not in args.skip:
        runs["spark_unchanged"] = spark_job("spark_unchanged", [*job, *level], logs, spark_opts)
        revise_year(view, data, years[len(years) // 2], work)
        runs["spark_revised_year"] = spark_job(
            "spark_revised_year", [*job, *level], logs, spark_opts
        )
        new_year = years[-1] + 1
        results["data"]["new_year_generate_seconds"] = ensure_years(data, [new_year], 1)
        (view / flow_path(data, new_year).name).symlink_to(flow_path(data, new_year))
        runs["spark_new_year"] = spark_job("spark_new_year", [*job, *level], logs, spark_opts)

    if "hs6" not in args.skip:
        hs6 = ["jobs/fitness.py", "--no-ingest", "--warehouse", warehouse, "--full-refresh"]
        hs6 += ["--set", 'products.level="hs6"', "--years", span]
        runs["spark_hs6"] = spark_job("spark_hs6", hs6, logs, spark_opts)
        # The same indicators without writing the proximity table (~25 million rows a year at
        # HS6): min_proximity = 1 only filters that table's rows. Like for like with
        # py-ecomplexity, which keeps its proximity matrix in memory; the difference between
        # the two runs is the cost of the table.
        no_table = [*hs6, "--set", "product_space.min_proximity=1.0"]
        runs["spark_hs6_no_proximity_table"] = spark_job(
            "spark_hs6_no_proximity_table", no_table, logs, spark_opts
        )
        runs["spark_fitness_eci_hs6"] = spark_job(
            "spark_fitness_eci_hs6",
            ["bench/spark_fitness_eci.py", "--warehouse", warehouse, "--years", span],
            logs,
            spark_opts,
        )

    if "baselines" not in args.skip:
        parquet = work / "parquet"
        runs["pandas_hs4"] = run_measured(
            "pandas_hs4",
            [PY, "-m", "bench.baselines.pandas_pipeline", "--flows", parquet]
            + ["--out", work / "pandas_hs4", "--level", "hs4"],
            logs,
        )
        shutil.rmtree(work / "pandas_hs4", ignore_errors=True)
        if "hs6" not in args.skip:
            runs["pandas_hs6"] = run_measured(
                "pandas_hs6",
                [PY, "-m", "bench.baselines.pandas_pipeline", "--flows", parquet]
                + ["--out", work / "pandas_hs6", "--level", "hs6"]
                + ["--save-exports", work / "exports_hs6"],
                logs,
            )
            shutil.rmtree(work / "pandas_hs6", ignore_errors=True)
            runs["numpy_fitness_hs6"] = run_measured(
                "numpy_fitness_hs6",
                [PY, "-m", "bench.baselines.numpy_fitness", "--exports", work / "exports_hs6"],
                logs,
            )
            if "ecomplexity" not in args.skip:
                runs["py_ecomplexity_hs6"] = run_measured(
                    "py_ecomplexity_hs6",
                    [PY, "-m", "bench.baselines.py_ecomplexity", "--exports", work / "exports_hs6"]
                    + ["--years", str(args.ecomplexity_years)],
                    logs,
                )

    results["load_average"]["end"] = load_average()
    results["runs"] = dict(runs)
    results["targets"] = targets(results)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    (args.out / f"{stamp}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    runs.path.unlink(missing_ok=True)
    (args.out / f"{stamp}.md").write_text(markdown(results))
    print(markdown(results))
    log(f"results: {args.out / stamp}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
