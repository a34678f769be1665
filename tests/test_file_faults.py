"""File-level faults stop the job before Spark starts: a clear paragraph naming the file, a
non-zero exit, and no table written."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.io.test_baci import write_release

GOOD_ROW = "2001,251,842,010111,10.5,1.0"


def _break_missing_column(folder: Path) -> Path:
    (folder / "BACI_HS92_Y2001_V202401.csv").write_text("t,i,j,k,v\n2001,251,842,010111,10.5\n")
    return folder


def _break_empty_file(folder: Path) -> Path:
    (folder / "BACI_HS92_Y2002_V202401.csv").write_text("")
    return folder


def _break_zip(folder: Path) -> Path:
    archive = folder.parent / "BACI_HS92_V202401.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.iterdir():
            zf.write(path, path.name)
    archive.write_bytes(archive.read_bytes()[:-200])  # cut: the central directory is gone
    return archive


def _break_codes_file(folder: Path) -> Path:
    (folder / "product_codes_HS92_V202401.csv").unlink()
    return folder


def _break_mixed_releases(folder: Path) -> Path:
    (folder / "BACI_HS92_Y2002_V202301.csv").write_text("t,i,j,k,v,q\n")
    return folder


@pytest.mark.parametrize(
    ("breaker", "expected"),
    [
        (_break_missing_column, "BACI_HS92_Y2001_V202401.csv: missing column(s) q"),
        (_break_empty_file, "BACI_HS92_Y2002_V202401.csv is empty"),
        (_break_zip, "BACI_HS92_V202401.zip is neither a folder nor a readable zip"),
        (_break_codes_file, "missing product_codes_HS92_V202401.csv"),
        (_break_mixed_releases, "mixes BACI releases (HS92 V202301, HS92 V202401)"),
    ],
)
def test_file_fault_stops_before_anything_is_written(tmp_path, breaker, expected):
    source = breaker(write_release(tmp_path / "rel", [GOOD_ROW]))
    warehouse = tmp_path / "warehouse"
    result = subprocess.run(
        [sys.executable, "jobs/fitness.py", "--source", str(source), "--warehouse", str(warehouse)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not warehouse.exists(), "no table may be written"
