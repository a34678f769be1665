"""lib.run.versions: the code fingerprint follows the code, not the files it is in."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from lib.run.versions import (
    EQUIVALENT,
    INGEST_MODULES,
    code_fingerprint,
    code_fingerprints,
    equivalent_fingerprints,
)
from tests.conftest import PROJECT_ROOT

PROBE = (
    "from lib.run.versions import INGEST_MODULES, code_fingerprint; "
    "print(code_fingerprint(), code_fingerprint(only=INGEST_MODULES))"
)


def _fingerprints(root) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=root, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


@pytest.fixture
def copy(tmp_path):
    shutil.copytree(
        PROJECT_ROOT / "lib", tmp_path / "lib", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def test_the_copy_has_the_fingerprints_of_the_project(copy):
    assert _fingerprints(copy) == [code_fingerprint(), code_fingerprint(only=INGEST_MODULES)]


def test_comments_docstrings_imports_and_moves_change_nothing(copy):
    rca = copy / "lib" / "measures" / "rca.py"
    text = rca.read_text()
    # the last function of rca.py moved to another module, a comment and a docstring reworded
    start = text.rindex("\ndef ")
    moved, text = text[start:], text[:start]
    rca.write_text(text.replace('"""', '"""Reworded. ', 1) + "\n# a comment\n")
    with open(copy / "lib" / "measures" / "fitness.py", "a", encoding="utf-8") as handle:
        handle.write("\nimport math  # an import more\n" + moved)
    assert _fingerprints(copy) == [code_fingerprint(), code_fingerprint(only=INGEST_MODULES)]


def test_a_changed_statement_changes_the_fingerprint_of_what_it_computes(copy):
    with open(copy / "lib" / "io" / "baci" / "flows.py", "a", encoding="utf-8") as handle:
        handle.write("\nBLOCK_BYTES = 16 << 20\n")
    everything, ingest = _fingerprints(copy)
    assert everything != code_fingerprint() and ingest != code_fingerprint(only=INGEST_MODULES)
    with open(copy / "lib" / "report" / "html.py", "a", encoding="utf-8") as handle:
        handle.write("\nDPI = 1\n")  # the report computes no table
    assert _fingerprints(copy) == [everything, ingest]


def test_equivalent_fingerprints_follow_the_current_one():
    for only in (None, INGEST_MODULES):
        now = code_fingerprints(only=only)
        assert now[0] == code_fingerprint(only=only)
        assert set(now[1:]) >= set(EQUIVALENT.get((only, now[0]), ()))


def test_equivalent_fingerprints_follow_chains_to_every_earlier_code():
    # A warehouse written before the S3 change (issue 24) and the later declarations is current.
    now = code_fingerprints(only=INGEST_MODULES)
    assert {"2146b13e796648f4", "7310935c6790a66b", "8ed69bef90757d7c"} <= set(now[1:])
    chain = {(None, "c"): ("b",), (None, "b"): ("a", "c")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("lib.run.versions.EQUIVALENT", chain)
        assert equivalent_fingerprints("c") == ("c", "b", "a")  # a cycle ends the walk
        assert equivalent_fingerprints("z") == ("z",)
