"""The job's environment is lean: lib/ and jobs/ import nothing that only the test tools bring.

``./spark-submit.sh jobs/...`` installs the project's dependencies alone; the "dev" extra
(pytest, hypothesis, py-ecomplexity, fermi-cref, bicm, ...) comes with ``--test``. Every module of lib/
and every job is imported here in a fresh interpreter where the packages that only the dev
extra brings (and what they pull in) cannot be imported.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

from tests.conftest import PROJECT_ROOT

PROJECT = "ecomplexity-spark"


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _closure(names: set[str]) -> set[str]:
    """The distributions ``names`` need, transitively (extras and markers not followed)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r]
    return seen


def dev_only_modules() -> set[str]:
    """Top-level import names of the distributions only the dev extra brings."""
    requires = metadata.requires(PROJECT) or []
    runtime = _closure({_name(r) for r in requires if "extra ==" not in r})
    dev = _closure({_name(r) for r in requires if 'extra == "dev"' in r}) - runtime
    modules = set()
    for module, dists in metadata.packages_distributions().items():
        if {d.lower().replace("_", "-") for d in dists} <= dev:
            modules.add(module)
    return modules


IMPORT_EVERYTHING = """
import importlib, pkgutil, runpy, sys
from pathlib import Path
blocked = set(sys.argv[1].split(","))

class DevOnly:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"{name} is only in the dev extra (the test tools)")

sys.meta_path.insert(0, DevOnly())
import lib
for module in pkgutil.walk_packages(lib.__path__, "lib."):
    importlib.import_module(module.name)
for job in sorted(Path("jobs").glob("*.py")):
    runpy.run_path(str(job), run_name="imported")
print("ok")
"""


def test_lib_and_jobs_import_without_the_test_tools():
    blocked = dev_only_modules()
    # scipy is no longer among them: scikit-learn (prediction.methods) needs it at run time.
    assert {"pytest", "hypothesis", "ecomplexity", "chispa", "nbclient", "fermi", "bicm"} <= blocked
    assert not blocked & {"numpy", "pandas", "pyarrow", "pyspark", "delta", "duckdb"}
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING, ",".join(sorted(blocked))],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]
