"""Run ``jobs/report.py`` in this process (the test session's Spark is reused, not stopped)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

JOB = Path(__file__).resolve().parents[2] / "jobs" / "report.py"


def load_job():
    spec = importlib.util.spec_from_file_location("report_job", JOB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_job(argv: list[str]) -> None:
    load_job().main(argv)
