"""lib.io.place_activity_csv: a CSV streamed in small blocks gets every record's physical line
right (quoted newlines, wrong field counts, skipped lines read ahead), checked against line
numbers counted while the file is written."""

from __future__ import annotations

import gzip
import random

import pyarrow as pa
import pytest

from lib.io import place_activity_csv


def _write(path, n: int, seed: int) -> list[tuple[int, str, bool]]:
    """A CSV of ``n`` records, some spanning two lines, some with a wrong field count; returns
    (physical line, first field, well formed) of each as counted while writing."""
    rng = random.Random(seed)
    lines, truth, line = ["a,b,c"], [], 1
    for i in range(n):
        r = rng.random()
        if r < 0.05:
            text, ok = f"{i},x", False
        elif r < 0.10:
            text, ok = f'{i},"two\nlines",z', True
        elif r < 0.12:
            text, ok = f'{i},"two\nlines",z,extra', False
        else:
            text, ok = f"{i},y,z", True
        line += 1
        truth.append((line, str(i), ok))
        line += text.count("\n")
        lines.append(text)
    data = "\n".join(lines) + "\n"
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as out:
            out.write(data)
    else:
        path.write_text(data)
    return truth


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz"])
@pytest.mark.parametrize("block", [256, 4096, 1 << 20])
def test_physical_lines_across_blocks(tmp_path, monkeypatch, name, block):
    monkeypatch.setattr(place_activity_csv, "BLOCK", block)
    path = tmp_path / name
    truth = _write(path, 3000, seed=block)
    batches = list(place_activity_csv.csv_batches(str(path), place_activity_csv.header(str(path))))
    if block == 256:
        assert len(batches) > 50  # streamed, not read whole
    got = pa.Table.from_batches(batches).to_pydict()
    seen = sorted(
        (line, a if fault is None else raw.split(",")[0], fault is None)
        for line, a, fault, raw in zip(
            got["line_number"], got["a"], got["fault"], got["raw_line"], strict=True
        )
    )
    assert seen == truth
    faults = [f for f in got["fault"] if f is not None]
    assert faults and all(f.startswith("wrong number of fields") for f in faults)
