"""Reading any place x activity table: a long table of values by place, activity and year.

Employment by region and industry (ONS BRES, Eurostat SBS, US County Business Patterns),
historical trade by country and SITC product, ...: one row per (year, place, activity) with

    place, activity, year, value                 required
    place_name, activity_name, parent_activity   optional (names; a coarser activity code that
                                                 groups activities, e.g. a SIC section)

as CSV (optionally gzipped; header row), Parquet (file or folder) or a Delta table (a folder
with ``_delta_log``). Codes are read as text, so leading zeros stay ("0011").

Row faults never stop the run: each bad row goes to the quarantine with its file, physical
line number (CSV; the row number for Parquet and Delta) and reason, and rows read = rows
accepted + rows quarantined. Faults: a missing place, activity or year; a year that is not an
integer in 1962-2100 (the tables' range); a value that is missing, not a number or negative; a
second row for the same (year, place, activity) (both are quarantined: which one is right is
not ours to guess); a CSV line with the wrong number of fields. File-level faults (missing
file, unreadable format, a required column absent) raise ``PlaceActivityFormatError`` naming
the file, before anything is written.

The table is read by pyarrow on the driver (a regional table is small: 12 regions x 88
divisions x 20 years is 21,000 rows; a 1962-2000 SITC history ~6 million rows, ~1 GB).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

REQUIRED = ("place", "activity", "year", "value")
OPTIONAL = ("place_name", "activity_name", "parent_activity")
MIN_YEAR, MAX_YEAR = 1962, 2100  # lib.tables.YEAR_RANGE


class PlaceActivityFormatError(ValueError):
    """A file-level problem of a place x activity table (named in the message)."""


@dataclass(frozen=True)
class PlaceActivityTable:
    """The accepted rows (year, place, activity, value and the optional columns present, the
    missing ones as nulls) and the quarantined ones (source_file, line_number, reason,
    raw_line)."""

    source: str
    rows: pd.DataFrame
    quarantine: pd.DataFrame

    @property
    def counts(self) -> dict[str, int]:
        accepted, rejected = len(self.rows), len(self.quarantine)
        return {
            "rows_read": accepted + rejected,
            "rows_accepted": accepted,
            "rows_quarantined": rejected,
        }


def source_format(path: str) -> str:
    """csv, parquet or delta, from the path."""
    local = Path(path)
    if (local / "_delta_log").is_dir():
        return "delta"
    name = local.name.lower()
    if name.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
        return "csv"
    if name.endswith((".parquet", ".pq")) or local.is_dir():
        return "parquet"
    raise PlaceActivityFormatError(
        f"{path}: not a CSV (.csv, .csv.gz), Parquet (.parquet or a folder of them) or Delta "
        "table (a folder with _delta_log)"
    )


def read_place_activity(path: str) -> PlaceActivityTable:
    """Read and check a place x activity table (see the module doc)."""
    if "://" not in path and not Path(path).exists():
        raise PlaceActivityFormatError(f"{path}: no such file or folder")
    kind = source_format(path)
    invalid: list[tuple[int, str, str]] = []
    try:
        if kind == "csv":
            table, lines = _read_csv(path, invalid)
        elif kind == "parquet":
            table = pq.read_table(path)
            lines = np.arange(1, table.num_rows + 1)
        else:
            from deltalake import DeltaTable

            table = DeltaTable(path).to_pyarrow_table()
            lines = np.arange(1, table.num_rows + 1)
    except PlaceActivityFormatError:
        raise
    except (pa.ArrowInvalid, OSError) as exc:
        raise PlaceActivityFormatError(f"{path}: cannot be read as {kind}: {exc}") from exc
    missing = [c for c in REQUIRED if c not in table.column_names]
    if missing:
        raise PlaceActivityFormatError(
            f"{path}: required column(s) {', '.join(missing)} missing; the table has "
            f"{', '.join(table.column_names) or 'no columns'} (expected at least "
            f"{', '.join(REQUIRED)}; optional {', '.join(OPTIONAL)})"
        )
    columns = [c for c in (*REQUIRED, *OPTIONAL) if c in table.column_names]
    frame = pd.DataFrame(
        {c: _as_text(table.column(c)) for c in columns}
    )  # text first: every check reads the values as the file has them
    return _checked(path, frame, lines, invalid)


def _read_csv(path: str, invalid: list[tuple[int, str, str]]) -> tuple[pa.Table, np.ndarray]:
    """All columns as text; lines with a wrong field count go to ``invalid``. Returns the
    table and each row's physical line number (header = 1; quoted newlines counted)."""
    with pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 16),
        parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
    ) as probe:  # the header's column names only
        names = probe.schema.names

    def on_invalid(row) -> str:
        invalid.append(
            (
                int(row.number),  # the record number (serial reading sets it)
                f"wrong number of fields ({row.actual_columns}, header has {row.expected_columns})",
                row.text,
            )
        )
        return "skip"

    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(use_threads=False),  # serial: invalid rows get line numbers
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False
        ),
    )
    # pyarrow numbers records (header = 1), not lines: a quoted newline makes a record span
    # two lines. Record of each accepted row: its rank plus the invalid records before it;
    # physical line of any record: its number plus the newlines inside the records before it.
    extra = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        extra += pc.fill_null(pc.count_substring(column, "\n"), 0).to_numpy(zero_copy_only=False)
    skipped = np.array(sorted(r for r, _, _ in invalid), dtype=np.int64)
    base = 2 + np.arange(table.num_rows)
    records = base
    for _ in range(len(skipped) + 1):  # each pass moves rows past the skipped records before them
        moved = base + np.searchsorted(skipped, records, side="right")
        if np.array_equal(moved, records):
            break
        records = moved
    invalid.sort()
    all_records = np.concatenate([records, skipped])
    all_extra = np.concatenate([extra, [text.count("\n") for _, _, text in invalid]]).astype(int)
    order = np.argsort(all_records, kind="stable")
    newlines_before = np.empty_like(all_extra)
    newlines_before[order] = np.cumsum(all_extra[order]) - all_extra[order]
    lines = all_records + newlines_before
    for i, (_, reason, text) in enumerate(invalid):
        invalid[i] = (int(lines[table.num_rows + i]), reason, text)
    lines = lines[: table.num_rows]
    return table, lines


def _as_text(column: pa.ChunkedArray) -> pd.Series:
    """A column as stripped strings, None where null or empty."""
    text = column.cast(pa.string()) if not pa.types.is_string(column.type) else column
    series = text.to_pandas().str.strip()
    return series.where(series.notna() & (series != ""), None)


def _checked(
    path: str, frame: pd.DataFrame, lines: np.ndarray, invalid: list[tuple[int, str, str]]
) -> PlaceActivityTable:
    reasons = pd.Series([None] * len(frame), dtype=object)

    def flag(mask: pd.Series, reason) -> None:
        """Record the first reason of each row."""
        new = mask & reasons.isna()
        if isinstance(reason, pd.Series):
            reasons[new] = reason[new]
        else:
            reasons[new] = reason

    for column in ("place", "activity", "year"):
        flag(frame[column].isna(), f"{column} missing")
    year = pd.to_numeric(frame["year"], errors="coerce")
    whole = year.notna() & (year == np.floor(year))
    flag(~whole, "year not an integer: " + frame["year"].fillna(""))
    flag(whole & ((year < MIN_YEAR) | (year > MAX_YEAR)), f"year outside {MIN_YEAR}-{MAX_YEAR}")
    flag(frame["value"].isna(), "value missing")
    value = pd.to_numeric(frame["value"], errors="coerce")
    flag(value.isna() | ~np.isfinite(value), "value not a number: " + frame["value"].fillna(""))
    flag(value < 0, "value negative")

    # Both rows of a duplicated key go (which one is right is not ours to guess).
    keys = pd.DataFrame({"year": year, "place": frame["place"], "activity": frame["activity"]})
    candidates = reasons.index[reasons.isna()]
    duplicated = keys.loc[candidates].duplicated(keep=False)
    twins = duplicated.index[duplicated]
    if len(twins):
        line = pd.Series(lines, index=frame.index).loc[twins]
        first = line.groupby([keys.loc[twins, c] for c in keys.columns]).transform("min")
        reasons.loc[twins] = "duplicate (year, place, activity), first at line " + first.astype(str)

    rejected = reasons.notna()
    raw = frame[rejected].astype(object).where(frame[rejected].notna(), "")
    quarantine = pd.DataFrame(
        {
            "source_file": path,
            "line_number": lines[rejected.to_numpy()].astype(np.int64),
            "reason": reasons[rejected].astype(str).to_numpy(),
            "raw_line": raw.apply(lambda r: ",".join(r.astype(str)), axis=1).to_numpy()
            if rejected.any()
            else np.array([], dtype=object),
        }
    )
    if invalid:
        bad = pd.DataFrame(invalid, columns=["line_number", "reason", "raw_line"])
        bad.insert(0, "source_file", path)
        quarantine = pd.concat([quarantine, bad], ignore_index=True)
    quarantine = quarantine.sort_values("line_number", kind="stable").reset_index(drop=True)

    accepted = frame[~rejected].copy()
    accepted["year"] = year[~rejected].astype(np.int32)
    accepted["value"] = value[~rejected].astype(np.float64)
    for column in OPTIONAL:
        if column not in accepted:
            accepted[column] = None
    columns = ["year", "place", "activity", "value", *OPTIONAL]
    return PlaceActivityTable(path, accepted[columns].reset_index(drop=True), quarantine)
