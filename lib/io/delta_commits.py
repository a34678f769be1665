"""Commits by delta-rs that either stand alone or fail naming the conflict: several writers at
once on an object store (S3) or a shared disk.

delta-rs writes a commit's log entry with a conditional put (``If-None-Match: *`` on S3): of
two writers racing for a version, one gets it and the other is refused (412), so no commit is
ever overwritten. What the refused one does next is decided here, not by delta-rs's own retry:
its conflict check lets two overwrites of a partition that was empty both stand (both writers'
rows would then be in it). ``commit_strictly`` tries the commit again on the next version only
if nothing committed since the writer planned it changed rows it replaces; otherwise it raises
``ConcurrentCommitError`` naming the table, the version planned on and the commits it lost to
(their operation and ``userMetadata``, which holds the winning run's id).

Must not retry a commit that conflicts, and must not touch the table but through delta-rs's
public transaction API and reads of its log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping

from lib.io.filesystems import arrow_filesystem, arrow_uri

# A commit that lost the race for its version is tried again on the next one this many times,
# when nothing it conflicts with was committed meanwhile.
COMMIT_ATTEMPTS = 10


class ConcurrentCommitError(RuntimeError):
    """Another writer committed to the table after this commit was planned, changing rows this
    one replaces: this commit was not made, the other one stands intact."""


def commits_touching(
    table_uri: str, versions: Iterable[int], replace: Mapping[str, Iterable[int]] | None
) -> list[dict]:
    """The commits among ``versions`` that changed rows a commit replacing ``replace`` would
    replace: data files added or removed in those partitions ({column: values}; ``{}``: none,
    an append), or any data change when ``replace`` is None (a row predicate: which rows a file
    holds is not in the log). Read from the log's commit files: version, operation,
    userMetadata of each."""
    if replace is not None and not replace:
        return []
    fs, root = arrow_filesystem(table_uri)
    wanted = None
    if replace is not None:
        wanted = {column: {str(int(v)) for v in values} for column, values in replace.items()}
    found = []
    for version in versions:
        with fs.open_input_stream(f"{root.rstrip('/')}/_delta_log/{version:020d}.json") as log:
            actions = [json.loads(line) for line in log.read().decode().splitlines() if line]
        info = next((a["commitInfo"] for a in actions if "commitInfo" in a), {})
        for action in actions:
            change = action.get("add") or action.get("remove")
            if change is None or not change.get("dataChange", True):
                continue
            values = change.get("partitionValues") or {}
            if wanted is None or all(values.get(c) in v for c, v in wanted.items()):
                found.append(
                    {
                        "version": version,
                        "operation": info.get("operation"),
                        "userMetadata": info.get("userMetadata"),
                    }
                )
                break
    return found


def conflict_error(
    table_uri: str, planned: int, conflicts: list[dict], cause: str = ""
) -> ConcurrentCommitError:
    names = "; ".join(
        f"v{c['version']} {c['operation']} {c['userMetadata'] or ''}".strip() for c in conflicts
    )
    return ConcurrentCommitError(
        f"concurrent write to {table_uri}: this commit (planned on v{planned}) conflicts with "
        "another writer's and was not made; the table holds the other writer's commit intact. "
        "Rerun the job when the other one has finished. Committed meanwhile: "
        f"{names or 'unknown'}{cause}"
    )


def commit_strictly(
    table_uri: str,
    planned: int,
    replace: Mapping[str, Iterable[int]] | None,
    commit: Callable[[int], None],
) -> int:
    """Run ``commit(version)`` (one delta-rs commit on the table as of ``version``, with
    ``max_commit_retries=0``) until it stands, on the latest version each time; a commit made
    since ``planned`` that changed rows it replaces (``commits_touching``) raises
    ``ConcurrentCommitError`` instead. Returns the version committed."""
    from deltalake import DeltaTable
    from deltalake.exceptions import CommitFailedError

    last_error = ""
    for _ in range(COMMIT_ATTEMPTS):
        latest = DeltaTable(arrow_uri(table_uri)).version()
        conflicts = commits_touching(table_uri, range(planned + 1, latest + 1), replace)
        if conflicts:
            raise conflict_error(table_uri, planned, conflicts)
        try:
            commit(latest)
            return latest + 1
        except CommitFailedError as error:  # refused: another commit took latest + 1
            last_error = f" (delta-rs: {error})"
    raise conflict_error(table_uri, planned, [], last_error)
