"""Parsing a BACI flow file with Arrow inside a Spark task, in bounded blocks, every row accepted or rejected with its line.

The reader streams a file in blocks of ``BLOCK_BYTES`` so a task does not grow with the file, and keeps
physical line numbers so every rejected row is reported with its file and line. The row checks
themselves are in ``lib.io.baci.checks``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lib.io.baci.checks import (
    _first_reason,
    _join_raw,
    _physical_lines,
    _rejected_raw_lines,
    _SeenKeys,
    _to_float,
    _to_int,
    _truncation_reason,
)
from lib.io.baci.releases import (
    FLOW_COLUMNS,
    BaciFormatError,
    FlowFile,
    damaged_file_errors,
    open_source,
)

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
