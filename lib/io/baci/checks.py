"""The row checks of a flow block: duplicate keys across blocks, numbers and integers, and the text of rejected lines.

Pure Arrow/numpy helpers of ``lib.io.baci.flows``; no file access here.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# What a valid value field looks like (Arrow regexes).
NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
INTEGER = r"^\s*\d+\s*$"


class _SeenKeys:
    """The (exporter, importer, product) keys of the rows accepted so far in a file, sorted,
    with the line of each key's first occurrence: the duplicate check across blocks.

    Keys are dense indexes into the code lists, 4 bytes while countries² x products fits in
    32 bits (BACI: ~240² x ~5,400), so with the 4-byte line a distinct flow costs 8 bytes
    (~100 MB for a full-width year of 12.7 M flows).
    """

    def __init__(self, n_countries: int, n_products: int) -> None:
        self.n_countries, self.n_products = n_countries, n_products
        fits = n_countries * n_countries * max(n_products, 1) < 2**32
        self.dtype = np.uint32 if fits else np.uint64
        self.keys = np.empty(0, self.dtype)
        self.lines = np.empty(0, np.uint32)

    def mark_duplicates(
        self,
        reason: pa.Array,
        exporter_index: pa.ChunkedArray,
        importer_index: pa.ChunkedArray,
        product_index: pa.ChunkedArray,
        lines: np.ndarray,
    ) -> pa.Array:
        """Later copies of a (t, i, j, k) already seen in the file are quarantined, naming the
        first; the block's other accepted keys are remembered."""
        ok = pc.is_null(reason).to_numpy(zero_copy_only=False)
        if not ok.any():
            return reason
        rows = np.flatnonzero(ok)

        def index(column: pa.ChunkedArray) -> np.ndarray:
            dense = pc.fill_null(column, 0).to_numpy(zero_copy_only=False)
            return dense[rows].astype(self.dtype)

        key = (index(exporter_index) * self.n_countries + index(importer_index)) * np.asarray(
            self.n_products, self.dtype
        ) + index(product_index)
        order = np.argsort(key, kind="stable")  # file order within a key
        sorted_key = key[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = sorted_key[1:] != sorted_key[:-1]
        group = np.cumsum(first) - 1
        group_key, group_line = sorted_key[first], lines[rows[order[first]]]
        at = np.searchsorted(self.keys, group_key)
        found = at < len(self.keys)
        found[found] = self.keys[at[found]] == group_key[found]
        first_line = group_line.copy()
        first_line[found] = self.lines[at[found]]
        new = ~found
        self.keys = np.insert(self.keys, at[new], group_key[new])
        self.lines = np.insert(self.lines, at[new], group_line[new].astype(np.uint32))
        repeat = ~first | found[group]  # in sorted order
        if not repeat.any():
            return reason
        messages = reason.to_numpy(zero_copy_only=False).astype(object)
        for row, line in zip(rows[order[repeat]], first_line[group[repeat]], strict=True):
            messages[row] = f"duplicate of line {line}"
        return pa.array(messages, pa.string())


def _truncation_reason(reason: str, line: int, last_line: int) -> str:
    return (
        f"truncated last line ({reason})" if line == last_line and "missing" in reason else reason
    )


def _physical_lines(start: int, end: int, bad_lines: list[int]) -> np.ndarray:
    """Line numbers start..end-1 except the lines Arrow could not split (reported separately)."""
    lines = np.arange(start, end, dtype=np.int64)
    if not bad_lines:
        return lines
    keep = np.ones(lines.size, dtype=bool)
    keep[np.asarray(bad_lines, dtype=np.int64) - start] = False
    return lines[keep]


# WHY fast paths: on a 9-million-row file the regular expressions below cost seconds per
# column. When every string of a column is plainly a number (the normal case) a cheaper test
# proves it and the result is the same; otherwise the exact regex path decides row by row.


def _to_int(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pc.all(pc.ascii_is_decimal(column)).as_py():  # only digits: INTEGER matches every row
        return pc.cast(column, pa.int32())
    ok = pc.match_substring_regex(column, INTEGER)
    cleaned = pc.if_else(ok, pc.utf8_trim_whitespace(column), pa.scalar(None, pa.string()))
    return pc.cast(cleaned, pa.int32())


def _to_float(column: pa.ChunkedArray, missing: pa.ChunkedArray | None = None) -> pa.ChunkedArray:
    """NUMBER strings as float64, null otherwise; rows flagged ``missing`` are null."""
    null = pa.scalar(None, pa.string())
    padded = pc.utf8_trim(column, " ")  # spaces only: \s also allows tabs etc. (regex path)
    if missing is not None:
        padded = pc.if_else(missing, null, padded)
    try:
        # Arrow's parser accepts NUMBER's strings and, besides, only inf / nan spellings.
        fast = pc.cast(padded, pa.float64())
        if pc.all(pc.is_finite(fast)).as_py() is not False:
            return fast
    except pa.ArrowInvalid:
        pass
    ok = pc.match_substring_regex(column, NUMBER)
    if missing is not None:
        ok = pc.and_(ok, pc.invert(missing))
    cleaned = pc.if_else(ok, pc.utf8_trim_whitespace(column), null)
    return pc.cast(cleaned, pa.float64())


def _first_reason(checks: list[tuple[pa.ChunkedArray, str]], n_rows: int) -> pa.Array:
    """The first failing check per row, or null: the order above is the order reported."""
    first = np.zeros(n_rows, dtype=np.int8)  # 0: passes every check, else 1 + check index
    for number, (failed, _) in reversed(list(enumerate(checks, 1))):
        first[pc.fill_null(failed, False).to_numpy(zero_copy_only=False)] = number
    if not first.any():
        return pa.nulls(n_rows, pa.string())
    messages = pa.array([None, *(message for _, message in checks)], pa.string())
    return messages.take(pa.array(first))


def _rejected_raw_lines(table: pa.Table, header: list[str], reason: pa.Array) -> pa.Array:
    """The line as read for rejected rows, null for accepted ones (joined only where needed)."""
    rejected = pc.is_valid(reason)
    nulls = pa.nulls(table.num_rows, pa.string())
    if not pc.any(rejected).as_py():
        return nulls
    joined = _join_raw(table.filter(rejected), header).combine_chunks()
    return pc.replace_with_mask(nulls, rejected, joined)


def _join_raw(table: pa.Table, header: list[str]) -> pa.ChunkedArray:
    return pc.binary_join_element_wise(*[table.column(c) for c in header], ",")
