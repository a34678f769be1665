"""Reading a CEPII BACI release: a folder or the zip CEPII ships, locally or on any Hadoop URI.

A release holds ``BACI_HS{rev}_Y{year}_V{release}.csv`` per year, ``country_codes_V{release}.csv``
and ``product_codes_HS{rev}_V{release}.csv``. Everything is read by header name with an explicit
schema: product codes stay 6-character strings, ``q`` may be right-padded with spaces and ``NA``
or empty means null, the country file has two layouts (before and from V202401) and old ones may
be Latin-1.

Flow files are parsed with Arrow inside Spark tasks (one task per yearly file, see
``lib.ingest``): Arrow's CSV reader is several times faster than Spark's, and parsing a whole file
in one task keeps physical line numbers, so every rejected row is reported with its file and line.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.fs as pafs

from lib.io.filesystems import arrow_filesystem, arrow_uri  # noqa: F401 (arrow_uri re-exported)
from lib.provenance import SYNTHETIC_MARKER, SYNTHETIC_PREFIX, source_kind

# CEPII's release ids are V + year + month (V202401); SYNTH + 4 digits is the id of the
# project's synthetic releases (lib/synthetic.py, lib/provenance.py), no CEPII release's.
RELEASE_ID = rf"(?P<release>V\d{{6}}[a-z]?|{SYNTHETIC_PREFIX}\d{{4}})"
FLOW_FILE = re.compile(rf"^BACI_HS(?P<rev>\d{{2}})_Y(?P<year>\d{{4}})_{RELEASE_ID}\.csv$")
COUNTRY_FILE = re.compile(rf"^country_codes_{RELEASE_ID}\.csv$")
PRODUCT_FILE = re.compile(rf"^product_codes_HS(?P<rev>\d{{2}})_{RELEASE_ID}\.csv$")
FLOW_COLUMNS = ("t", "i", "j", "k", "v", "q")
UNSPECIFIED_PREFIX = "9999"  # 999999 and 9999AA: "not specified according to kind"


class BaciFormatError(ValueError):
    """A file-level problem: the run stops, nothing is written, the message says what to do."""


# --- locating files ----------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFile:
    """A file of the release: a path (local or URI), or a member inside a zip at ``path``."""

    path: str
    member: str | None = None

    @property
    def name(self) -> str:
        return PurePosixPath(self.member or self.path).name

    @property
    def display(self) -> str:
        return f"{self.path}!{self.member}" if self.member else self.path


@dataclass(frozen=True)
class FlowFile:
    source: SourceFile
    year: int
    hs_revision: str
    release: str


@dataclass(frozen=True)
class BaciRelease:
    location: str
    release: str
    hs_revision: str
    flow_files: tuple[FlowFile, ...]
    country_file: SourceFile
    product_file: SourceFile
    notes: tuple[str, ...] = field(default_factory=tuple)
    marked_synthetic: bool = False  # SYNTHETIC.md found beside the files

    @property
    def years(self) -> list[int]:
        return [f.year for f in self.flow_files]

    @property
    def source_kind(self) -> str:
        """``synthetic`` (the release id or the generator's note says so) or ``real``."""
        return source_kind(self.release, self.marked_synthetic)


@contextmanager
def open_source(source: SourceFile) -> Iterator[IO[bytes]]:
    """A binary stream for a release file, on the local disk or any filesystem Arrow knows."""
    fs, path = arrow_filesystem(source.path)
    if source.member is None:
        with fs.open_input_stream(path) as stream:
            yield stream
        return
    with (
        fs.open_input_file(path) as handle,
        zipfile.ZipFile(handle) as archive,
        archive.open(source.member) as member,
    ):
        yield member


def fingerprint(source: SourceFile) -> str:
    """Identifies a file's content without reading it: its name and size, and its modification
    time (a zip member: the CRC-32 the zip stores for it)."""
    fs, path = arrow_filesystem(source.path)
    if source.member is None:
        info = fs.get_file_info(path)
        return f"{source.name}|size={info.size}|mtime_ns={info.mtime_ns}"
    with fs.open_input_file(path) as handle, zipfile.ZipFile(handle) as archive:
        member = archive.getinfo(source.member)
        return f"{source.name}|size={member.file_size}|crc32={member.CRC:08x}"


def _list_names(location: str) -> list[SourceFile]:
    fs, path = arrow_filesystem(location)
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise BaciFormatError(
            f"BACI source {location} does not exist. Pass --source with a BACI release folder "
            "or the zip downloaded from CEPII (e.g. BACI_HS92_V202401.zip)."
        )
    if info.type == pafs.FileType.Directory:
        selector = pafs.FileSelector(path, recursive=False)
        prefix = location.rstrip("/")
        return [
            SourceFile(f"{prefix}/{PurePosixPath(f.path).name}")
            for f in fs.get_file_info(selector)
            if f.type == pafs.FileType.File
        ]
    try:
        with fs.open_input_file(path) as handle, zipfile.ZipFile(handle) as archive:
            return [SourceFile(location, m) for m in archive.namelist() if not m.endswith("/")]
    except (zipfile.BadZipFile, OSError, EOFError, pa.ArrowInvalid) as exc:
        raise BaciFormatError(
            f"{location} is neither a folder nor a readable zip ({exc}). Download the release "
            "again from CEPII, or unzip it and pass the folder with --source."
        ) from exc


def discover_release(location: str, years: list[int] | None = None) -> BaciRelease:
    """Find the yearly flow files and the two code lists of one release; refuse mixed releases."""
    files = _list_names(location)
    flows: list[FlowFile] = []
    countries: dict[str, SourceFile] = {}
    products: dict[tuple[str, str], SourceFile] = {}
    for source in files:
        if m := FLOW_FILE.match(source.name):
            flows.append(FlowFile(source, int(m["year"]), f"HS{m['rev']}", m["release"]))
        elif m := COUNTRY_FILE.match(source.name):
            countries[m["release"]] = source
        elif m := PRODUCT_FILE.match(source.name):
            products[(f"HS{m['rev']}", m["release"])] = source
    if not flows:
        raise BaciFormatError(
            f"No BACI flow files (BACI_HS<rev>_Y<year>_V<release>.csv) found in {location}. "
            "Point --source at the folder or zip of a BACI release."
        )
    releases = sorted({(f.hs_revision, f.release) for f in flows})
    if len(releases) > 1:
        listed = ", ".join(f"{rev} {rel}" for rev, rel in releases)
        raise BaciFormatError(
            f"{location} mixes BACI releases ({listed}). A run ingests one release: move the "
            "files of the other release to their own folder and ingest it separately."
        )
    hs_revision, release = releases[0]
    if release not in countries:
        found = ", ".join(sorted(s.name for s in countries.values())) or "none"
        raise BaciFormatError(
            f"{location}: missing country_codes_{release}.csv (found: {found}). It ships with "
            f"every BACI release; restore it from the CEPII download of {release}."
        )
    if (hs_revision, release) not in products:
        found = ", ".join(sorted(s.name for s in products.values())) or "none"
        raise BaciFormatError(
            f"{location}: missing product_codes_{hs_revision}_{release}.csv (found: {found}). It "
            f"ships with every BACI release; restore it from the CEPII download of {release}."
        )
    wanted = sorted((f for f in flows if years is None or f.year in years), key=lambda f: f.year)
    if years is not None:
        missing = sorted(set(years) - {f.year for f in flows})
        if missing and not wanted:
            raise BaciFormatError(
                f"{location} has no flow file for the years asked ({years[0]}-{years[-1]}); "
                f"it covers {min(f.year for f in flows)}-{max(f.year for f in flows)}."
            )
    return BaciRelease(
        location=location,
        release=release,
        hs_revision=hs_revision,
        flow_files=tuple(wanted),
        country_file=countries[release],
        product_file=products[(hs_revision, release)],
        marked_synthetic=any(s.name == SYNTHETIC_MARKER for s in files),
    )


# --- code lists (small: read on the driver) ------------------------------------------------


def _read_text(source: SourceFile) -> str:
    with open_source(source) as stream:
        raw = stream.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # old country files are Latin-1


def _read_small_csv(source: SourceFile) -> pd.DataFrame:
    text = _read_text(source)
    if not text.strip():
        raise BaciFormatError(f"{source.display} is empty. Restore it from the CEPII download.")
    # keep_default_na=False: Namibia's ISO2 code is "NA"; empty strings become null below.
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    return frame


def _require_columns(frame: pd.DataFrame, source: SourceFile, required: list[str]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise BaciFormatError(
            f"{source.display}: missing column(s) {', '.join(missing)} (header has "
            f"{', '.join(frame.columns)}). Is this a BACI code list? Restore it from CEPII."
        )


def read_country_codes(source: SourceFile) -> pd.DataFrame:
    """country_code (int), country_name, iso2, iso3 from either BACI layout.

    BACI codes differ from ISO in places (251 France, 842 USA, 490 "Other Asia, nes") and ISO3
    codes repeat (BEL for 56 and 58), so the BACI code is the key, never ISO3.
    """
    frame = _read_small_csv(source)
    if "country_name" in frame.columns:  # V202401 and later
        names = {"country_name": "country_name", "country_iso2": "iso2", "country_iso3": "iso3"}
    else:  # before V202401
        names = {
            "country_name_abbreviation": "country_name",
            "iso_2digit_alpha": "iso2",
            "iso_3digit_alpha": "iso3",
        }
    _require_columns(frame, source, ["country_code", *names])
    out = frame[["country_code", *names]].rename(columns=names)
    codes = pd.to_numeric(out["country_code"].str.strip(), errors="coerce")
    if codes.isna().any():
        line = int(np.flatnonzero(codes.isna().to_numpy())[0]) + 2
        raise BaciFormatError(f"{source.display}, line {line}: country_code is not a number.")
    out["country_code"] = codes.astype("int32")
    for column in ("country_name", "iso2", "iso3"):
        out[column] = out[column].str.strip().replace({"": None, "N/A": None})
    return out.drop_duplicates("country_code").reset_index(drop=True)


def read_product_codes(source: SourceFile) -> pd.DataFrame:
    """product (6-character string, leading zeros kept) and description."""
    frame = _read_small_csv(source)
    _require_columns(frame, source, ["code", "description"])
    codes = frame["code"].str.strip()
    numeric = codes.str.fullmatch(r"\d{1,6}")
    codes = codes.where(~numeric, codes.str.zfill(6))  # a file re-saved by a spreadsheet
    bad = ~codes.str.fullmatch(r"[0-9A-Z]{6}")
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise BaciFormatError(
            f"{source.display}, line {line}: '{codes[bad].iloc[0]}' is not a 6-character HS code."
        )
    return pd.DataFrame({"product": codes, "description": frame["description"].str.strip()})


# --- flow files (large: parsed in Spark tasks) ---------------------------------------------

PARSED_SCHEMA = pa.schema(
    [
        ("year", pa.int32()),
        ("exporter", pa.int32()),
        ("importer", pa.int32()),
        ("product", pa.string()),
        ("value", pa.float64()),
        ("quantity", pa.float64()),
        ("source_file", pa.string()),
        ("source_year", pa.int32()),
        ("line_number", pa.int64()),
        ("reason", pa.string()),  # null for accepted rows
        ("raw_line", pa.string()),  # only for rejected rows
    ]
)
NUMBER = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
INTEGER = r"^\s*\d+\s*$"


def read_flow_header(head: bytes, display: str) -> list[str]:
    """Check the first line (``head`` = the file's first bytes) names BACI's six columns."""
    first = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").strip()
    if not first:
        raise BaciFormatError(
            f"{display} is empty. Download the file again from CEPII (or remove it to skip that year)."
        )
    columns = [c.strip() for c in first.split(",")]
    missing = [c for c in FLOW_COLUMNS if c not in columns]
    if missing:
        raise BaciFormatError(
            f"{display}: missing column(s) {', '.join(missing)}; BACI flow files have the header "
            f"t,i,j,k,v,q but this one has {first!r}. Is it a BACI file, or cut at the top?"
        )
    return columns


ACCEPTED_SCHEMA = pa.schema([PARSED_SCHEMA.field(c) for c in PARSED_SCHEMA.names[:6]])


@dataclass(frozen=True)
class CheckedFlows:
    """One flow file parsed and checked row by row (see ``check_flow_file``).

    ``values`` holds the typed columns of ACCEPTED_SCHEMA for every row Arrow could split into
    fields, ``reason`` why each of them is rejected (null = accepted) and ``lines`` its physical
    line; ``unsplit`` lists the lines Arrow could not split, as (line, reason, text).
    """

    flow: FlowFile
    values: pa.Table
    reason: pa.Array
    lines: np.ndarray
    raw: pa.Table  # the rows as read (string columns), to report rejected lines as they were
    header: list[str]
    unsplit: list[tuple[int, str, str]]

    @property
    def n_lines(self) -> int:
        return self.values.num_rows + len(self.unsplit)

    @property
    def n_rejected(self) -> int:
        """Lines quarantined: rejected rows and lines Arrow could not split."""
        return self.values.num_rows - self.reason.null_count + len(self.unsplit)

    def accepted(self) -> pa.Table:
        """The accepted rows, in ACCEPTED_SCHEMA (no copy when every row is accepted)."""
        if self.reason.null_count == self.values.num_rows:
            return self.values
        return self.values.filter(pc.is_null(self.reason))

    def batches(self, chunk_rows: int = 1_000_000, rejected_only: bool = False):
        """Every data line once in PARSED_SCHEMA (or only the rejected ones), in file order,
        then the lines Arrow could not split."""
        values, reason, lines = self.values, self.reason, self.lines
        if rejected_only:
            keep = pc.is_valid(reason)
            values, reason = values.filter(keep), reason.filter(keep)
            lines = lines[keep.to_numpy(zero_copy_only=False)]
            raw_line = _join_raw(self.raw.filter(keep), self.header)
        else:
            raw_line = _rejected_raw_lines(self.raw, self.header, reason)
        n_rows, display, year = values.num_rows, self.flow.source.display, self.flow.year
        parsed = pa.table(
            [
                *values.columns,
                pa.repeat(pa.scalar(display), n_rows),
                pa.repeat(pa.scalar(year, pa.int32()), n_rows),
                pa.array(lines, pa.int64()),
                reason,
                raw_line,
            ],
            schema=PARSED_SCHEMA,
        )
        yield from parsed.to_batches(max_chunksize=chunk_rows)
        if self.unsplit:
            n = len(self.unsplit)
            yield pa.RecordBatch.from_pydict(
                {
                    **{name: [None] * n for name in ACCEPTED_SCHEMA.names},
                    "source_file": [display] * n,
                    "source_year": [year] * n,
                    "line_number": [line for line, _, _ in self.unsplit],
                    "reason": [
                        _truncation_reason(r, line, self.n_lines + 1) for line, r, _ in self.unsplit
                    ],
                    "raw_line": [text for _, _, text in self.unsplit],
                },
                schema=PARSED_SCHEMA,
            )

    def rejected_counts(self) -> dict[str, int]:
        """Rejected lines by reason (``duplicate of line 12`` counted under its own text)."""
        counts: dict[str, int] = {}
        if self.reason.null_count < self.values.num_rows:
            for item in pc.value_counts(self.reason.drop_null()).to_pylist():
                counts[item["values"]] = item["counts"]
        for line, reason, _ in self.unsplit:
            reason = _truncation_reason(reason, line, self.n_lines + 1)
            counts[reason] = counts.get(reason, 0) + 1
        return counts


def parse_flow_file(
    flow: FlowFile,
    country_codes: np.ndarray,
    product_codes: pa.Array,
    chunk_rows: int = 1_000_000,
) -> Iterator[pa.RecordBatch]:
    """Parse one yearly file into batches of PARSED_SCHEMA: every data line comes out once,
    either accepted (reason null) or with the reason it is quarantined."""
    yield from check_flow_file(flow, country_codes, product_codes).batches(chunk_rows)


def check_flow_file(
    flow: FlowFile, country_codes: np.ndarray, product_codes: pa.Array
) -> CheckedFlows:
    """Read one yearly file and check every data line (see ``CheckedFlows``).

    Physical line numbers (header = line 1) come from a single-threaded Arrow read: lines that
    Arrow cannot split into six fields are reported by its invalid-row handler with their number.
    """
    display = flow.source.display
    with open_source(flow.source) as stream:
        data = stream.read()
    header = read_flow_header(data[:65536], display)
    invalid: list[tuple[int, str, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        kind = "missing fields" if row.actual_columns < row.expected_columns else "extra fields"
        invalid.append(
            (row.number, f"{kind}: {row.actual_columns} of {row.expected_columns}", row.text)
        )
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(use_threads=False, block_size=64 << 20),
        parse_options=pacsv.ParseOptions(
            invalid_row_handler=on_invalid,
            ignore_empty_lines=False,
            quote_char=False,  # BACI never quotes: a stray quote must not swallow lines
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header}, strings_can_be_null=False
        ),
    )
    del data
    n_rows = table.num_rows
    lines = _physical_lines(n_rows, [row[0] for row in invalid])

    t_raw, i_raw, j_raw = (table.column(c) for c in ("t", "i", "j"))
    k_raw, v_raw, q_raw = (table.column(c) for c in ("k", "v", "q"))
    year = _to_int(t_raw)
    exporter = _to_int(i_raw)
    importer = _to_int(j_raw)
    product = pc.utf8_trim_whitespace(k_raw)
    short = pc.and_(pc.ascii_is_decimal(product), pc.less_equal(pc.utf8_length(product), 5))
    if pc.any(short).as_py():  # codes that lost their leading zeros (^\d{1,5}$)
        product = pc.if_else(short, pc.utf8_lpad(product, 6, "0"), product)
    product_index = pc.index_in(product, value_set=product_codes)  # null = unknown code
    value = _to_float(v_raw)
    q_trim = pc.utf8_trim_whitespace(q_raw)
    q_missing = pc.or_(pc.equal(q_trim, ""), pc.equal(q_trim, "NA"))
    quantity = _to_float(q_raw, missing=q_missing)

    reason = _first_reason(
        [
            (pc.is_null(year), "year is not a whole number"),
            (pc.not_equal(year, flow.year), f"year does not match the file name ({flow.year})"),
            (pc.is_null(exporter), "exporter code is not a whole number"),
            (pc.is_null(importer), "importer code is not a whole number"),
            (pc.invert(pc.is_in(exporter, pa.array(country_codes))), "unknown exporter code"),
            (pc.invert(pc.is_in(importer, pa.array(country_codes))), "unknown importer code"),
            (pc.equal(exporter, importer), "exporter equals importer"),
            (pc.is_null(product_index), "unknown product code"),
            (pc.is_null(value), "value is not a number"),
            (pc.less_equal(value, 0.0), "value is zero or negative"),
            (pc.and_(pc.invert(q_missing), pc.is_null(quantity)), "quantity is not a number"),
        ],
        n_rows,
    )
    reason = _mark_duplicates(reason, exporter, importer, product_index, lines)
    values = pa.table([year, exporter, importer, product, value, quantity], schema=ACCEPTED_SCHEMA)
    return CheckedFlows(flow, values, reason, lines, table, header, invalid)


def _truncation_reason(reason: str, line: int, last_line: int) -> str:
    return (
        f"truncated last line ({reason})" if line == last_line and "missing" in reason else reason
    )


def _physical_lines(n_rows: int, bad_lines: list[int]) -> np.ndarray:
    """Line numbers of the parsed rows (header = 1): every line from 2 on, except the lines
    Arrow could not split (reported separately), in file order."""
    lines = np.arange(2, n_rows + len(bad_lines) + 2, dtype=np.int64)
    if not bad_lines:
        return lines
    keep = np.ones(lines.size, dtype=bool)
    keep[np.asarray(bad_lines, dtype=np.int64) - 2] = False
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


def _mark_duplicates(
    reason: pa.Array,
    exporter: pa.ChunkedArray,
    importer: pa.ChunkedArray,
    product_index: pa.ChunkedArray,
    lines: np.ndarray,
) -> pa.Array:
    """Later copies of a (t, i, j, k) already seen in the file are quarantined, naming the first."""
    ok = pc.is_null(reason).to_numpy(zero_copy_only=False)
    if not ok.any():
        return reason
    rows = np.flatnonzero(ok)
    k_index = product_index.to_numpy(zero_copy_only=False)[rows]
    key = (
        exporter.to_numpy(zero_copy_only=False)[rows].astype(np.int64) * 1_000
        + importer.to_numpy(zero_copy_only=False)[rows].astype(np.int64)
    ) * 100_000 + k_index.astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    repeat = np.zeros(len(rows), dtype=bool)
    repeat[1:] = sorted_key[1:] == sorted_key[:-1]
    if not repeat.any():
        return reason
    first_pos = np.maximum.accumulate(np.where(repeat, 0, np.arange(len(rows))))
    messages = np.array(reason.to_pylist(), dtype=object)
    dup_rows = rows[order[repeat]]
    first_rows = rows[order[first_pos[repeat]]]
    for dup, first in zip(dup_rows, first_rows, strict=True):
        messages[dup] = f"duplicate of line {lines[first]}"
    return pa.array(messages, pa.string())


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
