"""Reading a CEPII BACI release: a folder or the zip CEPII ships, locally or on any Hadoop URI.

A release holds ``BACI_HS{rev}_Y{year}_V{release}.csv`` per year, ``country_codes_V{release}.csv``
and ``product_codes_HS{rev}_V{release}.csv``. Everything is read by header name with an explicit
schema: product codes stay 6-character strings, ``q`` may be right-padded with spaces and ``NA``
or empty means null, the country file has two layouts (before and from V202401) and old ones may
be Latin-1.

Flow files are parsed with Arrow inside Spark tasks (one task per yearly file, see
``lib.execution.ingest``): Arrow's CSV reader is several times faster than Spark's, and reading a whole file
in one task keeps physical line numbers, so every rejected row is reported with its file and line.
The file is streamed in bounded blocks (``FlowFileReader``), so a task's memory does not grow with
the file.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
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

from lib.datasets.provenance import SYNTHETIC_MARKER, SYNTHETIC_PREFIX, source_kind
from lib.io.filesystems import arrow_filesystem, arrow_uri  # noqa: F401 (arrow_uri re-exported)

# CEPII's release ids are V + year + month (V202401); SYNTH + 4 digits is the id of the
# project's synthetic releases (lib/datasets/synthetic.py, lib/datasets/provenance.py), no CEPII release's.
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


@contextmanager
def damaged_file_errors(display: str) -> Iterator[None]:
    """Errors of a file that cannot be read to its end (a damaged zip member, a line longer
    than Arrow's block) as a BaciFormatError naming the file."""
    try:
        yield
    except (pa.ArrowInvalid, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise BaciFormatError(
            f"{display} cannot be read ({exc}). Download the file again from CEPII."
        ) from exc


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
# What the quarantine keeps of a rejected line: PARSED_SCHEMA's last five columns.
REJECTED_SCHEMA = pa.schema([PARSED_SCHEMA.field(c) for c in PARSED_SCHEMA.names[6:]])
# Rows checked (and written, as one Parquet row group) at a time, in bytes of parsed strings
# (~1.2 x the CSV's). A task's memory follows this, not the size of the file (docs/cluster.md,
# "Memory of a task", has the measured figures).
BLOCK_BYTES = 32 << 20
# Bytes of CSV Arrow's streaming reader parses at a time. WHY small: it reads up to 32 blocks
# ahead of the consumer, so 16 MiB blocks held a whole 500 MB year in memory.
READ_BYTES = 1 << 20


def reason_kind(reason: str) -> str:
    """Group reasons by their kind ("duplicate of line 12" -> "duplicate of line")."""
    return reason.split(" (")[0].rstrip("0123456789 ").strip()


@dataclass(frozen=True)
class CheckedBlock:
    """Consecutive lines of one flow file, parsed and checked (see ``FlowFileReader``).

    ``values`` holds the typed columns of ACCEPTED_SCHEMA for every row Arrow could split into
    fields, ``reason`` why each of them is rejected (null = accepted), ``lines`` its physical
    line and ``raw`` the row as read (string columns); ``unsplit`` lists the lines Arrow could
    not split, as (line, reason, text).
    """

    flow: FlowFile
    values: pa.Table
    reason: pa.Array
    lines: np.ndarray
    raw: pa.Table
    header: list[str]
    unsplit: list[tuple[int, str, str]]

    @property
    def n_lines(self) -> int:
        return self.values.num_rows + len(self.unsplit)

    @property
    def n_rejected(self) -> int:
        return self.values.num_rows - self.reason.null_count + len(self.unsplit)

    def accepted(self) -> pa.Table:
        """The accepted rows, in ACCEPTED_SCHEMA (no copy when every row is accepted)."""
        if self.reason.null_count == self.values.num_rows:
            return self.values
        return self.values.filter(pc.is_null(self.reason))

    def rejected(self) -> pa.Table:
        """The rejected lines in REJECTED_SCHEMA: rows that failed a check, then the lines Arrow
        could not split."""
        if not self.n_rejected:
            return REJECTED_SCHEMA.empty_table()
        keep = pc.is_valid(self.reason)
        lines = self.lines[keep.to_numpy(zero_copy_only=False)]
        checked = self._with_source(
            [pa.array(lines, pa.int64()), self.reason.filter(keep)],
            _join_raw(self.raw.filter(keep), self.header),
        )
        return pa.concat_tables([checked, self._unsplit_table(REJECTED_SCHEMA)])

    def parsed(self) -> pa.Table:
        """Every line of the block once in PARSED_SCHEMA (accepted or rejected), in file order,
        then the lines Arrow could not split."""
        columns = self._with_source(
            [pa.array(self.lines, pa.int64()), self.reason],
            _rejected_raw_lines(self.raw, self.header, self.reason),
        ).columns
        parsed = pa.table([*self.values.columns, *columns], schema=PARSED_SCHEMA)
        return pa.concat_tables([parsed, self._unsplit_table(PARSED_SCHEMA)])

    def _with_source(self, line_and_reason: list[pa.Array], raw_line: pa.Array) -> pa.Table:
        n_rows = len(line_and_reason[0])
        source = [
            pa.repeat(pa.scalar(self.flow.source.display), n_rows),
            pa.repeat(pa.scalar(self.flow.year, pa.int32()), n_rows),
        ]
        return pa.table([*source, *line_and_reason, raw_line], schema=REJECTED_SCHEMA)

    def _unsplit_table(self, schema: pa.Schema) -> pa.Table:
        n = len(self.unsplit)
        return pa.table(
            {
                **{name: [None] * n for name in ACCEPTED_SCHEMA.names if name in schema.names},
                "source_file": [self.flow.source.display] * n,
                "source_year": [self.flow.year] * n,
                "line_number": [line for line, _, _ in self.unsplit],
                "reason": [reason for _, reason, _ in self.unsplit],
                "raw_line": [text for _, _, text in self.unsplit],
            },
            schema=schema,
        )


class FlowFileReader:
    """Stream one yearly file (CSV or zip member) in blocks of ``block_bytes`` and check every
    data line, once: ``blocks()`` yields each block's accepted rows and rejected lines together.

    A task's memory follows the block size, not the file's. What stays across blocks is the
    duplicate check's index (8 bytes per distinct accepted flow, ``_SeenKeys``) and the counts:
    ``n_lines`` and ``counts`` (rejected lines by reason kind) are complete once ``blocks()``
    is exhausted.

    Physical line numbers (header = 1) come from Arrow's serial reader: lines it cannot split
    into six fields are reported by its invalid-row handler with their number, and the rows of
    each block take the numbers in between, in order.
    """

    def __init__(
        self,
        flow: FlowFile,
        country_codes,
        product_codes: pa.Array,
        block_bytes: int = BLOCK_BYTES,
    ) -> None:
        self.flow = flow
        self.countries = pa.array(np.asarray(country_codes, dtype=np.int64)).cast(pa.int32())
        self.products = product_codes
        self.block_bytes = block_bytes
        self.n_lines = 0
        self.counts: dict[str, int] = {}

    def blocks(self) -> Iterator[CheckedBlock]:
        display = self.flow.source.display
        with damaged_file_errors(display), open_source(self.flow.source) as stream:
            header = read_flow_header(stream.read(65536), display)  # the first 64 KiB only
        invalid: list[tuple[int, str, str]] = []

        def on_invalid(row: pacsv.InvalidRow) -> str:
            kind = "missing fields" if row.actual_columns < row.expected_columns else "extra fields"
            reason = f"{kind}: {row.actual_columns} of {row.expected_columns}"
            invalid.append((row.number, reason, row.text))
            return "skip"

        seen = _SeenKeys(len(self.countries), len(self.products))
        next_line, placed = 2, 0  # the line of the next row; invalid lines placed so far
        with open_source(self.flow.source) as stream:
            pending: list[tuple[pa.RecordBatch, np.ndarray, list]] = []
            for batch in self._csv_batches(stream, header, on_invalid):
                # The rows take the lines from next_line on, skipping the invalid lines among
                # them (the reader may have reported invalid lines of later blocks already).
                end, first_placed = next_line + batch.num_rows, placed
                while placed < len(invalid) and invalid[placed][0] < end:
                    end, placed = end + 1, placed + 1
                skipped = [line for line, _, _ in invalid[first_placed:placed]]
                lines = _physical_lines(next_line, end, skipped)
                pending.append((batch, lines, invalid[first_placed:placed]))
                next_line = end
                if sum(b.nbytes for b, _, _ in pending) >= self.block_bytes:
                    yield self._count(self._check(pending, header, seen))
                    pending = []
            if pending:
                yield self._count(self._check(pending, header, seen))
        # Invalid lines after the last row; the file's very last one may be truncated.
        last_line = next_line - 1 + len(invalid) - placed
        rest = [
            (line, _truncation_reason(reason, line, last_line), text)
            for line, reason, text in invalid[placed:]
        ]
        if rest:
            empty = pa.table({c: pa.array([], pa.string()) for c in header})
            yield self._count(
                CheckedBlock(
                    self.flow,
                    ACCEPTED_SCHEMA.empty_table(),
                    pa.array([], pa.string()),
                    np.empty(0, np.int64),
                    empty,
                    header,
                    rest,
                )
            )

    def _csv_batches(self, stream: IO[bytes], header: list[str], on_invalid) -> Iterator:
        """Arrow's streaming CSV reader over ``stream``; a file it cannot read is named."""
        with damaged_file_errors(self.flow.source.display):
            yield from pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    use_threads=False, block_size=min(READ_BYTES, self.block_bytes)
                ),
                parse_options=pacsv.ParseOptions(
                    invalid_row_handler=on_invalid,
                    ignore_empty_lines=False,
                    quote_char=False,  # BACI never quotes: a stray quote must not swallow lines
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in header}, strings_can_be_null=False
                ),
            )

    def _count(self, block: CheckedBlock) -> CheckedBlock:
        self.n_lines += block.n_lines
        reasons = [(r, 1) for _, r, _ in block.unsplit]
        if block.reason.null_count < len(block.reason):
            counted = pc.value_counts(block.reason.drop_null()).to_pylist()
            reasons += [(item["values"], item["counts"]) for item in counted]
        for reason, n in reasons:
            kind = reason_kind(reason)
            self.counts[kind] = self.counts.get(kind, 0) + n
        return block

    def _check(
        self,
        batches: list[tuple[pa.RecordBatch, np.ndarray, list[tuple[int, str, str]]]],
        header: list[str],
        seen: _SeenKeys,
    ) -> CheckedBlock:
        """Check the rows of consecutive batches (each with its lines and unsplit lines)."""
        table = pa.Table.from_batches([batch for batch, _, _ in batches])
        lines = np.concatenate([lines for _, lines, _ in batches])
        unsplit = [line for _, _, invalid in batches for line in invalid]
        n_rows, year_expected = table.num_rows, self.flow.year
        t_raw, i_raw, j_raw = (table.column(c) for c in ("t", "i", "j"))
        k_raw, v_raw, q_raw = (table.column(c) for c in ("k", "v", "q"))
        year = _to_int(t_raw)
        exporter = _to_int(i_raw)
        importer = _to_int(j_raw)
        exporter_index = pc.index_in(exporter, value_set=self.countries)  # null = unknown
        importer_index = pc.index_in(importer, value_set=self.countries)
        product = pc.utf8_trim_whitespace(k_raw)
        short = pc.and_(pc.ascii_is_decimal(product), pc.less_equal(pc.utf8_length(product), 5))
        if pc.any(short).as_py():  # codes that lost their leading zeros (^\d{1,5}$)
            product = pc.if_else(short, pc.utf8_lpad(product, 6, "0"), product)
        product_index = pc.index_in(product, value_set=self.products)  # null = unknown code
        value = _to_float(v_raw)
        q_trim = pc.utf8_trim_whitespace(q_raw)
        q_missing = pc.or_(pc.equal(q_trim, ""), pc.equal(q_trim, "NA"))
        quantity = _to_float(q_raw, missing=q_missing)

        reason = _first_reason(
            [
                (pc.is_null(year), "year is not a whole number"),
                (
                    pc.not_equal(year, year_expected),
                    f"year does not match the file name ({year_expected})",
                ),
                (pc.is_null(exporter), "exporter code is not a whole number"),
                (pc.is_null(importer), "importer code is not a whole number"),
                (pc.is_null(exporter_index), "unknown exporter code"),
                (pc.is_null(importer_index), "unknown importer code"),
                (pc.equal(exporter, importer), "exporter equals importer"),
                (pc.is_null(product_index), "unknown product code"),
                (pc.is_null(value), "value is not a number"),
                (pc.less_equal(value, 0.0), "value is zero or negative"),
                (pc.and_(pc.invert(q_missing), pc.is_null(quantity)), "quantity is not a number"),
            ],
            n_rows,
        )
        reason = seen.mark_duplicates(reason, exporter_index, importer_index, product_index, lines)
        values = pa.table(
            [year, exporter, importer, product, value, quantity], schema=ACCEPTED_SCHEMA
        )
        return CheckedBlock(self.flow, values, reason, lines, table, header, unsplit)


def parse_flow_file(
    flow: FlowFile,
    country_codes,
    product_codes: pa.Array,
    chunk_rows: int = 1_000_000,
    block_bytes: int = BLOCK_BYTES,
) -> Iterator[pa.RecordBatch]:
    """Parse one yearly file into batches of PARSED_SCHEMA: every data line comes out once,
    either accepted (reason null) or with the reason it is quarantined."""
    reader = FlowFileReader(flow, country_codes, product_codes, block_bytes)
    for block in reader.blocks():
        yield from block.parsed().to_batches(max_chunksize=chunk_rows)


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
