"""Locating a BACI release: its file names, the files of a folder or zip (locally or on any Hadoop URI), and the checks that the release is whole.

Only names and sizes are read here (no file content but the zip directory): the code lists are read
by ``lib.io.baci.codes``, the flow files by ``lib.io.baci.flows``.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO

import pyarrow as pa
import pyarrow.fs as pafs

from lib.datasets.provenance import SYNTHETIC_MARKER, SYNTHETIC_PREFIX, source_kind
from lib.io.filesystems import arrow_filesystem

# CEPII's release ids are V + year + month (V202401); SYNTH + 4 digits is the id of the
# project's synthetic releases (lib/datasets/synthetic/, lib/datasets/provenance.py), no CEPII release's.
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
