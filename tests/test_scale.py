"""Full-width scale check (excluded by default; run with ``pytest -m scale``): one synthetic year
of ~9 million flows through the whole job and its baselines, with the benchmark script.

It generates (or reuses) data/generated/full and takes a few minutes; the 30-year benchmark is
``bench/run_benchmark.py`` (bench/README.md).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT


@pytest.mark.scale
def test_one_full_width_year_through_the_job(tmp_path):
    out = tmp_path / "results"
    subprocess.run(
        [
            sys.executable,
            "bench/run_benchmark.py",
            "--years",
            "1",
            "--skip",
            "hs6",
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ],
        cwd=PROJECT_ROOT,
        check=True,
    )
    (result,) = [json.loads(p.read_text()) for p in out.glob("*.json")]
    full = result["runs"]["spark_full"]["run_log"]
    assert full["row_counts"]["ingest.rows_read"] == result["data"]["flows"]
    assert result["runs"]["spark_unchanged"]["run_log"]["years"] == []  # nothing recomputed
    assert len(result["runs"]["spark_new_year"]["run_log"]["years"]) == 1
    targets = {t["target"]: t for t in result["targets"]}
    assert targets["peak_memory_gib"]["met"], targets["peak_memory_gib"]
