"""Streaming one CSV file of a place x activity table in bounded batches, with physical lines.

``csv_batches`` reads a CSV (optionally gzipped) with ``pyarrow.csv.open_csv`` one block at a
time (never the whole file) and yields Arrow record batches of text: ``line_number`` (the
physical line, header = 1, quoted newlines counted), the file's columns, and for a line with the
wrong number of fields a ``fault`` and its ``raw_line`` (its other columns null). It runs inside
a Spark task (``lib.io.place_activity``), one task per file.

Must not check values (``lib.io.place_activity`` does) nor hold more than a block of the file.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

BLOCK = 1 << 20  # bytes per parsed block: ~20,000 rows of a place x activity table


def header(path: str) -> list[str]:
    """The header's column names (reads the first block only)."""
    with pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 16),
        parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
    ) as probe:
        return probe.schema.names


def csv_batches(path: str, names: list[str]) -> Iterator[pa.RecordBatch]:
    """Text batches of ``path`` with physical line numbers (see the module doc); ``names`` are
    the header's columns (``header``)."""
    pending: list[tuple[int, str, str]] = []  # wrong field count: (record, reason, text)

    def on_invalid(row) -> str:
        reason = f"wrong number of fields ({row.actual_columns}, header has {row.expected_columns})"
        pending.append((int(row.number), reason, row.text))  # record number (serial reading)
        return "skip"

    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=False, block_size=BLOCK),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False
        ),
    )
    # pyarrow numbers records (header = 1), not lines: a quoted newline makes a record span two
    # lines. The k-th accepted row's record is k + 1 plus the skipped records before it; a
    # record's physical line is its number plus the newlines inside the records before it.
    accepted = 0  # rows accepted so far
    done: list[int] = []  # records of the skipped lines already emitted (sorted)
    newlines = 0  # newlines inside the records emitted so far
    with reader:
        for batch in reader:
            if batch.num_rows == 0:
                continue
            base = 2 + accepted + np.arange(batch.num_rows)
            accepted += batch.num_rows
            skipped = np.array(sorted(done + [r for r, _, _ in pending]), dtype=np.int64)
            records = base
            for _ in range(len(skipped) + 1):  # each pass moves rows past the skipped records
                moved = base + np.searchsorted(skipped, records, side="right")
                if np.array_equal(moved, records):
                    break
                records = moved
            # The skipped lines before this batch's last row go out with it; later ones (read
            # ahead) wait for their batch.
            now = sorted(p for p in pending if p[0] < records[-1])
            pending[:] = [p for p in pending if p[0] >= records[-1]]
            done = sorted(done + [r for r, _, _ in now])
            extra = np.zeros(batch.num_rows, dtype=np.int64)
            for column in batch.columns:
                counts = pc.fill_null(pc.count_substring(column, "\n"), 0)
                extra += counts.to_numpy(zero_copy_only=False)
            out, newlines = _numbered(batch, names, records, extra, now, newlines)
            yield out
        if pending:
            now = sorted(pending)
            pending.clear()
            empty = pa.RecordBatch.from_pydict({n: pa.array([], pa.string()) for n in names})
            out, newlines = _numbered(
                empty, names, np.array([], np.int64), np.array([], np.int64), now, newlines
            )
            yield out


def _numbered(
    batch: pa.RecordBatch,
    names: list[str],
    records: np.ndarray,
    extra: np.ndarray,
    invalid: list[tuple[int, str, str]],
    newlines: int,
) -> tuple[pa.RecordBatch, int]:
    """The batch's rows and the skipped lines among them, each with its physical line."""
    bad_records = np.array([r for r, _, _ in invalid], dtype=np.int64)
    bad_extra = np.array([t.count("\n") for _, _, t in invalid], dtype=np.int64)
    all_records = np.concatenate([records, bad_records])
    all_extra = np.concatenate([extra, bad_extra])
    order = np.argsort(all_records, kind="stable")
    before = np.empty_like(all_extra)
    before[order] = newlines + np.cumsum(all_extra[order]) - all_extra[order]
    lines = all_records + before
    n, k = batch.num_rows, len(invalid)
    columns = {"line_number": pa.array(lines, pa.int64())}
    for name in names:
        columns[name] = pa.concat_arrays([batch.column(name), pa.nulls(k, pa.string())])
    columns["fault"] = pa.array([None] * n + [reason for _, reason, _ in invalid], pa.string())
    columns["raw_line"] = pa.array([None] * n + [text for _, _, text in invalid], pa.string())
    return pa.RecordBatch.from_pydict(columns), newlines + int(all_extra.sum())
