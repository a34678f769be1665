"""A fingerprint of the code itself, for incremental runs.

WHY: the version string changes only at releases, so a rerun after pulling new code would keep
years computed by the old code. The fingerprint hashes the source of the modules that compute a
table, so an edit there makes the next plain rerun recompute what that code produced, and a
rerun with no change still does nothing.
"""

from __future__ import annotations

import hashlib
import zipfile
from functools import cache
from pathlib import Path

LIB = Path(__file__).resolve().parents[1]
# The report's code draws from the indicator tables; it does not compute them.
NOT_COMPUTING = ("report/",)


# What the flows table's rows depend on: the parser and the ingest's checks.
INGEST_MODULES = ("io/baci.py", "ingest.py", "tables.py")


@cache
def code_fingerprint(
    *, only: tuple[str, ...] | None = None, exclude: tuple[str, ...] = NOT_COMPUTING
) -> str:
    """Hash of the ``.py`` files of the ``lib`` package (path and content): those under
    ``only`` if given, else all but those under ``exclude`` (paths relative to ``lib/``).
    Works from a folder or from the zip that ships ``lib`` to a cluster (``--py-files``)."""
    digest = hashlib.sha256()
    for relative, content in sorted(_sources()):
        wanted = relative.startswith(only) if only is not None else not relative.startswith(exclude)
        if wanted:
            digest.update(relative.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()[:16]


def _sources() -> list[tuple[str, bytes]]:
    if LIB.is_dir():
        return [
            (path.relative_to(LIB).as_posix(), path.read_bytes())
            for path in LIB.rglob("*.py")
            if "__pycache__" not in path.parts
        ]
    archive, _, inner = str(LIB).partition(".zip")  # lib imported from a zip
    with zipfile.ZipFile(archive + ".zip") as zf:
        prefix = inner.strip("/\\") + "/"
        return [
            (name[len(prefix) :], zf.read(name))
            for name in zf.namelist()
            if name.startswith(prefix) and name.endswith(".py")
        ]
