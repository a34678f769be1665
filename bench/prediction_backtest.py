"""Seconds per method of the prediction backtest, the ML stage's effective parallelism, and the
same work through fermi-cref on one core (issue 22 item 7).

    .venv/bin/python bench/prediction_backtest.py [--release DIR | --years 8 --countries 60
        --products 400] [--level hs4] [--horizon 3] [--trees 20] [--master 'local[16]']
        [--methods density,bicm_density] [--fermi-methods density]

1. ``jobs/fitness.py`` (a fresh warehouse) with ``prediction.methods=["density"]`` on the release
   (by default a SYNTHETIC one generated here; ``--release data/generated/full`` is the
   30-year benchmark release of bench/README.md, far beyond a 2-core machine for the ML
   methods);
2. per method, the same job again on the same release (ingest and indicators unchanged: only
   the prediction stage runs) with ``prediction.methods=["<method>"]`` at ``--master``: its ``prediction`` stage
   seconds from the run log (density: the first run's); the ML methods with a Spark event log,
   whose heaviest stage is the classifiers' (effective parallelism = summed task run time /
   longest task, /work/shared/tools/eventlog.py's definition, computed here);
3. fermi-cref 0.2.0 (and bicm 3.4.0) on one core (CPU affinity 1, one BLAS thread) on the same
   M / RCA matrices read back from ``country_product_year``: per year t with t + h, density =
   ``ECPredictor.predict_network`` with the proximity, bicm_density = the same with bicm's
   validated projection, the classifiers = ``predict_ml_by_rowstack`` (one scikit-learn model
   per product on the stacked earlier years, n_jobs = 1, the same trees), then
   ``ValidationMetrics`` (ROC-AUC, PR-AUC, best F1, precision@k, MAP@k) on the candidates.

Prints one JSON line and a Markdown table; figures depend on the machine's load (printed).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
METHODS = ("density", "bicm_density", "random_forest", "gradient_boosting")
ML = ("random_forest", "gradient_boosting")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def job(warehouse: Path, release: Path | None, sets: list[str], spark_opts: list[str]) -> dict:
    """Run jobs/fitness.py; wall seconds and the run log's stage seconds."""
    from deltalake import DeltaTable

    args = [str(ROOT / "spark-submit.sh"), *spark_opts, "jobs/fitness.py"]
    args += ["--warehouse", str(warehouse), *(["--source", str(release)] if release else [])]
    for item in sets:
        args += ["--set", item]
    log(" ".join(args))
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
    runs = DeltaTable(str(warehouse / "run_log")).to_pandas().sort_values("finished_at")
    stages = dict(runs.iloc[-1]["stage_seconds"] or [])
    return {"wall_seconds": round(wall, 1), "stage_seconds": stages}


def event_log_stages(folder: Path) -> list[dict]:
    """Per stage of a Spark event log folder: tasks, summed run time, effective parallelism."""
    import zstandard

    runs = defaultdict(list)
    for path in sorted(glob.glob(str(folder / "**" / "*"), recursive=True)):
        if os.path.isdir(path):
            continue
        with open(path, "rb") as raw:
            stream = (
                io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8")
                if path.endswith(".zstd")
                else io.TextIOWrapper(raw, encoding="utf-8")
            )
            for line in stream:
                event = json.loads(line)
                if event.get("Event") == "SparkListenerTaskEnd" and event.get("Task Metrics"):
                    key = (event["Stage ID"], event["Stage Attempt ID"])
                    runs[key].append(event["Task Metrics"]["Executor Run Time"])
    return [
        {
            "stage": k[0],
            "tasks": len(v),
            "run_seconds": sum(v) / 1000,
            "parallelism": sum(v) / max(max(v), 1),
        }
        for k, v in runs.items()
    ]


# --- fermi-cref on one core ----------------------------------------------------------------


def fermi_baseline(warehouse: Path, methods: list[str], horizon: int, k: int, trees: int) -> dict:
    """Seconds per method of the same backtest through fermi-cref / bicm (one core)."""
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import numpy as np
    from bicm import BipartiteGraph
    from deltalake import DeltaTable
    from fermi.prediction_module import ECPredictor
    from fermi.validation_metrics import ValidationMetrics
    from scipy.sparse import csr_matrix
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    grid = DeltaTable(str(warehouse / "country_product_year")).to_pandas(
        columns=["year", "country_code", "product", "rca", "mcp"]
    )
    places = np.sort(grid["country_code"].unique())
    products = np.sort(grid["product"].unique())
    years = sorted(int(y) for y in grid["year"].unique())
    shape = (places.size, products.size)
    R, M = {}, {}
    for year, g in grid.groupby("year"):
        c, p = np.searchsorted(places, g["country_code"]), np.searchsorted(products, g["product"])
        R[year], M[year] = np.zeros(shape), np.zeros(shape)
        R[year][c, p], M[year][c, p] = g["rca"], g["mcp"]
    seconds = {}
    scored = [t for t in years if t + horizon in years]
    for method in methods:
        start = time.perf_counter()
        for t in scored:
            if method in ML and t - horizon not in years:
                continue
            Mt = M[t]
            rows, cols = Mt.sum(axis=1) > 0, Mt.sum(axis=0) > 0
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                if method == "density":
                    C = Mt.T @ Mt
                    u = np.diag(C)
                    with np.errstate(divide="ignore", invalid="ignore"):
                        phi = np.nan_to_num(C / np.maximum.outer(u, u))
                    np.fill_diagonal(phi, 0.0)
                    S = ECPredictor(Mt, normalize=True).predict_network(phi)
                elif method == "bicm_density":
                    sub = Mt[np.ix_(rows, cols)]
                    graph = BipartiteGraph(biadjacency=sub.astype(int))
                    graph.compute_projection(
                        rows=False, alpha=0.05, threads_num=1, progress_bar=False
                    )
                    B = np.zeros((sub.shape[1], sub.shape[1]))
                    for a, nb in graph.projected_cols_adj_list.items():
                        B[a, nb] = B[nb, a] = 1.0
                    S = np.zeros(shape)
                    S[np.ix_(rows, cols)] = ECPredictor(sub, normalize=True).predict_network(B)
                else:
                    model = (
                        RandomForestClassifier(n_estimators=trees, random_state=0, n_jobs=1)
                        if method == "random_forest"
                        else HistGradientBoostingClassifier(
                            max_iter=trees, random_state=0, early_stopping=False
                        )
                    )
                    train = [s for s in years if s + horizon <= t]
                    S = ECPredictor(Mt, mode="ml", model=model).predict_ml_by_rowstack(
                        [csr_matrix(R[s]) for s in train],
                        [csr_matrix(M[s + horizon]) for s in train],
                        csr_matrix(R[t]),
                    )
                candidate = (R[t] < 0.25) & rows[:, None] & cols[None, :]
                y, s = M[t + horizon][candidate], np.asarray(S)[candidate]
                metrics = ValidationMetrics(y, s)
                metrics.roc_auc(), metrics.pr_auc(), metrics.best_f1()
                metrics.precision_at_k(k * int(rows.sum())), metrics.map_at_k(k * int(rows.sum()))
        seconds[method] = round(time.perf_counter() - start, 1)
        log(f"fermi-cref {method}: {seconds[method]} s")
    return {"seconds": seconds, "matrix": list(shape), "years_scored": len(scored)}


# --- the run -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", type=Path, help="a BACI(-like) release folder")
    parser.add_argument("--years", type=int, default=8)
    parser.add_argument("--countries", type=int, default=60)
    parser.add_argument("--products", type=int, default=400, help="HS6 products generated")
    parser.add_argument("--level", default="hs4")
    parser.add_argument("--horizon", type=int, default=3)
    parser.add_argument("--trees", type=int, default=20)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--ml-tasks", type=int, default=16)
    parser.add_argument("--master", default="local[16]")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--fermi-methods", help="the methods run through fermi-cref too (default: --methods)"
    )
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--fermi-only", type=Path, help=argparse.SUPPRESS)  # a warehouse
    args = parser.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    if args.fermi_only:  # the baseline's own process (one core)
        out = fermi_baseline(args.fermi_only, methods, args.horizon, args.k, args.trees)
        print(json.dumps(out))
        return 0

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-prediction-"))
    release = args.release
    if release is None:
        from lib.datasets.synthetic import SizeSpec, generate_release

        size = SizeSpec(
            tuple(range(2020 - args.years + 1, 2021)),
            n_countries=args.countries,
            n_products=args.products,
            flows_per_year=args.countries * args.products,
            name="bench-prediction",
        )
        log(f"generating a SYNTHETIC release ({size}) into {work / 'release'}")
        release = generate_release(work / "release", size=size, seed=3)
    warehouse = work / "warehouse"
    common = [
        f"products.level={args.level}",
        f"prediction.horizon={args.horizon}",
        f"prediction.trees={args.trees}",
        f"prediction.k={args.k}",
        f"prediction.ml_tasks={args.ml_tasks}",
    ]
    opts = ["--master", args.master]
    results = {"load_average_start": list(os.getloadavg()), "master": args.master}
    results["first_run"] = job(
        warehouse, release, [*common, 'prediction.methods=["density"]'], opts
    )
    results["methods"] = {}
    for method in methods:
        events = work / f"events-{method}"
        events.mkdir(parents=True, exist_ok=True)
        spark = [*opts, "--conf", "spark.eventLog.enabled=true"]
        spark += ["--conf", f"spark.eventLog.dir=file://{events}"]
        run = job(warehouse, release, [*common, f'prediction.methods=["{method}"]'], spark)
        seconds = run["stage_seconds"].get("prediction")
        if seconds is None:  # the tables were current: the first run's (same settings)
            seconds = results["first_run"]["stage_seconds"].get("prediction")
        entry = {"prediction_seconds": seconds, **run}
        if method in ML:  # the classifiers' stage: by far the heaviest of the run
            stages = event_log_stages(events)
            if stages:
                fit = max(stages, key=lambda s: s["run_seconds"])
                entry["ml_stage"] = {k: round(v, 2) for k, v in fit.items()}
        results["methods"][method] = entry
        log(f"{method}: {entry}")
    fermi_methods = methods if args.fermi_methods is None else args.fermi_methods.split(",")
    fermi_methods = [m for m in fermi_methods if m]
    baseline = subprocess.run(
        [sys.executable, __file__, "--fermi-only", str(warehouse)]
        + ["--methods", ",".join(fermi_methods)]
        + ["--horizon", str(args.horizon), "--trees", str(args.trees), "--k", str(args.k)],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        },
    )
    if baseline.returncode:
        raise SystemExit(baseline.stderr[-3000:])
    results["fermi_one_core"] = json.loads(baseline.stdout.strip().splitlines()[-1])
    results["load_average_end"] = list(os.getloadavg())
    print(json.dumps(results))
    print(markdown(results, args))
    return 0


def markdown(results: dict, args) -> str:
    fermi = results["fermi_one_core"]["seconds"]
    lines = [
        f"Matrix {results['fermi_one_core']['matrix']} (places x products), "
        f"{results['fermi_one_core']['years_scored']} years scored, horizon {args.horizon}, "
        f"{args.trees} trees, master {results['master']}; load "
        f"{[round(x, 1) for x in results['load_average_start']]} -> "
        f"{[round(x, 1) for x in results['load_average_end']]}",
        "",
        "| method | prediction stage (s) | fermi-cref, 1 core (s) | ratio | ML stage parallelism |",
        "|---|---:|---:|---:|---:|",
    ]
    for method, entry in results["methods"].items():
        ours = entry["prediction_seconds"]
        theirs = fermi.get(method)
        ratio = f"{ours / theirs:.2f}" if ours and theirs else "-"
        ml = entry.get("ml_stage")
        par = f"{ml['parallelism']:.1f} of {ml['tasks']} tasks" if ml else "-"
        lines.append(f"| {method} | {ours} | {theirs} | {ratio} | {par} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
