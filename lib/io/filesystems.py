"""Opening Hadoop-style paths and URIs with Arrow's filesystems (local disk, S3, GCS, HDFS, ...).

Must not hold credentials: they come from the environment or the Hadoop configuration, never
from a table or a log.
"""

from __future__ import annotations

import pyarrow.fs as pafs

# Hadoop's names for S3 (the warehouse's URIs) that Arrow only knows as s3://.
_ARROW_SCHEMES = {"s3a": "s3", "s3n": "s3"}


def arrow_uri(path: str) -> str:
    """The URI as Arrow names it (``s3a://b/x`` -> ``s3://b/x``); other paths unchanged."""
    if "://" not in path:
        return path
    scheme, rest = path.split("://", 1)
    return f"{_ARROW_SCHEMES.get(scheme.lower(), scheme)}://{rest}"


def arrow_filesystem(path: str) -> tuple[pafs.FileSystem, str]:
    """Arrow's filesystem for ``path`` and the path within it."""
    if "://" in path:
        return pafs.FileSystem.from_uri(arrow_uri(path))
    if path.lower().startswith("file:"):  # Hadoop's file:/tmp/x
        return pafs.LocalFileSystem(), path[len("file:") :]
    return pafs.LocalFileSystem(), str(path)


def is_local(path: str) -> bool:
    """A plain path or a file: URI (every Spark task sees the same disk only in local mode or
    on a shared mount)."""
    return "://" not in path or path.lower().startswith("file:")


def is_s3(path: str) -> bool:
    """An S3 URI in any of its spellings (``s3://``, Hadoop's ``s3a://`` and ``s3n://``)."""
    return path.split("://", 1)[0].lower() in ("s3", "s3a", "s3n") if "://" in path else False
