"""Compare the tables of two warehouses, table by table: same columns, same rows, floats within
a relative tolerance; the columns that name a run (run ids, times, paths) are left out.

    .venv/bin/python bench/compare_warehouses.py WAREHOUSE_A WAREHOUSE_B [--rtol 1e-12]

A warehouse is a folder or an object-store URI (``s3a://bucket/warehouse``: delta-rs and Arrow
read the AWS environment variables, docs/cluster.md).

Used to check that a change of code (a refactoring, another execution path, an upgrade) leaves
the tables' contents as they were. Reads with delta-rs, as a BI tool would; exits 1 if any table
differs or is missing on one side. Prints one line per table.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
from deltalake import DeltaTable
from pyarrow.fs import FileSelector, FileType

from lib.io.filesystems import arrow_filesystem, arrow_uri

# Columns that describe the run rather than the data.
RUN_COLUMNS = {
    "run_id",
    "started_at",
    "finished_at",
    "config",
    "stage_seconds",
    "code_version",
    "source",
    "ingested_at",
    "modification_time",
    "source_file",
    "settings_key",
    "flows_key",
    "fingerprint",
    "input_versions",
}


def tables(warehouse: str) -> set[str]:
    fs, root = arrow_filesystem(str(warehouse))
    root = root.rstrip("/")
    return {
        info.base_name
        for info in fs.get_file_info(FileSelector(root, allow_not_found=True))
        if info.type == FileType.Directory
        and fs.get_file_info(f"{root}/{info.base_name}/_delta_log").type == FileType.Directory
    }


def frame(path: str) -> pd.DataFrame:
    df = DeltaTable(arrow_uri(str(path))).to_pandas()
    df = df[[c for c in sorted(df.columns) if c not in RUN_COLUMNS]]
    for column in df.columns:  # lists and maps (run_log) compared as their text
        if df[column].dtype == object and df[column].map(_nested).any():
            df[column] = df[column].map(repr)
    keys = [c for c in df.columns if df[c].dtype.kind not in "fc"]
    return df.sort_values(keys or list(df.columns), kind="stable").reset_index(drop=True)


def _nested(value) -> bool:
    return isinstance(value, list | dict | tuple | np.ndarray)


def compare(a: pd.DataFrame, b: pd.DataFrame, rtol: float) -> str | None:
    """None when equal, else what differs."""
    if list(a.columns) != list(b.columns):
        return f"columns {list(a.columns)} != {list(b.columns)}"
    if len(a) != len(b):
        return f"{len(a)} rows != {len(b)} rows"
    for column in a.columns:
        x, y = a[column], b[column]
        if x.dtype.kind in "fc" and y.dtype.kind in "fc":
            xv, yv = x.to_numpy(float), y.to_numpy(float)
            if not np.array_equal(np.isnan(xv), np.isnan(yv)):
                return f"{column}: nulls differ"
            ok = ~np.isnan(xv)
            scale = np.maximum(np.abs(xv[ok]), np.abs(yv[ok]))
            worst = np.max(np.abs(xv[ok] - yv[ok]) / np.where(scale > 0, scale, 1), initial=0.0)
            if worst > rtol:
                return f"{column}: relative difference {worst:.3g} > {rtol:g}"
        elif (
            not x.astype(object)
            .where(x.notna(), None)
            .equals(y.astype(object).where(y.notna(), None))
        ):
            return f"{column}: values differ"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--rtol", type=float, default=1e-12)
    args = parser.parse_args(argv)
    names_a, names_b = tables(args.a), tables(args.b)
    failed = False
    for name in sorted(names_a | names_b):
        if name not in names_a or name not in names_b:
            print(f"{name:32} only in {args.a if name in names_a else args.b}")
            failed = True
            continue
        a, b = frame(f"{args.a.rstrip('/')}/{name}"), frame(f"{args.b.rstrip('/')}/{name}")
        problem = compare(a, b, args.rtol)
        print(f"{name:32} {len(a):>10,} rows  {'equal' if problem is None else problem}")
        failed |= problem is not None
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
