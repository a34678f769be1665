"""A fingerprint of the code itself, for incremental runs.

WHY: the version string changes only at releases, so a rerun after pulling new code would keep
years computed by the old code. The fingerprint hashes the code of the modules that compute a
table, so an edit there makes the next plain rerun recompute what that code produced, and a
rerun with no change still does nothing.

What is hashed is the code, not the files: each module's statements without its docstrings,
comments, imports and layout, sorted, so moving a function to another module, re-ordering a
module or rewording a comment changes nothing, while any change to a statement does. A
refactoring that had to change statements without changing a formula (checked by comparing the
tables two warehouses hold) lists the fingerprints it replaces in ``EQUIVALENT``, so upgrading a
warehouse recomputes nothing. This module must not import the code it fingerprints.
"""

from __future__ import annotations

import ast
import hashlib
import zipfile
from functools import cache
from pathlib import Path

LIB = Path(__file__).resolve().parents[1]
# The report's code draws from the indicator tables, and the datasets' code makes input files
# (whose own fingerprints count): neither computes the tables from their input. The prediction
# stage reads the indicator tables too; its own tables have their own key (PREDICTION_MODULES).
PREDICTION_MODULES = ("prediction/", "run/prediction.py")
NOT_COMPUTING = ("report/", "datasets/", *PREDICTION_MODULES)


# What the flows table's rows depend on: the parser and the ingest's checks.
INGEST_MODULES = ("io/baci/", "execution/ingest/", "tables/")

# Fingerprints of earlier code that computes the same tables as the code of a fingerprint
# (key): {(only, current): (earlier, ...)}, followed in chains (an entry names the fingerprint
# just before a change, whose own entry names those before it), so each change adds one entry. Issue 23 (lib/ as packages, 2026-12-06) changed no
# formula: the tables of the default job were compared column by column before and after.
EQUIVALENT: dict[tuple[tuple[str, ...] | None, str], tuple[str, ...]] = {
    (None, "d7d63a8f0e5bc737"): ("363bc65274c8af13",),
    (INGEST_MODULES, "2146b13e796648f4"): ("7310935c6790a66b",),
    # Issue 24 (S3 warehouses): the Arrow flows commit is planned on the table's version read
    # before the tasks run (a conflicting commit loses with an error); rows and files unchanged.
    (INGEST_MODULES, "8ed69bef90757d7c"): ("2146b13e796648f4",),
    # Issue 21 item 6 (place x activity names) added declarations to lib/tables/ and changed no
    # column of baci_flows or baci_quarantine, nor the parser: the flows need no re-reading.
    (INGEST_MODULES, "2d75b279b22a0a45"): ("8ed69bef90757d7c",),
    # Issue 22 item 4 (BiCM) declared product_bicm_links in lib/tables/: flows unchanged.
    (INGEST_MODULES, "fcd65610329e33b4"): ("2d75b279b22a0a45",),
    # Issue 22 item 3 (the 2010-2020 default release) changed one column description in
    # lib/tables/ (country_year.gdp_per_capita: synthetic with the embedded release).
    (INGEST_MODULES, "60e2f101ff1aa40f"): ("fcd65610329e33b4",),
    # Issue 22 (time of the default job): the ingest's new tables are created while the flows
    # are read (delta.tables_ensured_meanwhile); every table equal bit for bit.
    (INGEST_MODULES, "5678d6c03f79b095"): ("60e2f101ff1aa40f",),
}


@cache
def code_fingerprint(
    *, only: tuple[str, ...] | None = None, exclude: tuple[str, ...] = NOT_COMPUTING
) -> str:
    """Hash of the code of the ``.py`` files of the ``lib`` package: those under ``only`` if
    given, else all but those under ``exclude`` (paths relative to ``lib/``). Works from a
    folder or from the zip that ships ``lib`` to a cluster (``--py-files``)."""
    statements = []
    for relative, content in _sources():
        wanted = relative.startswith(only) if only is not None else not relative.startswith(exclude)
        if wanted:
            statements.extend(_statements(content))
    digest = hashlib.sha256()
    for statement in sorted(statements):
        digest.update(statement.encode() + b"\0")
    return digest.hexdigest()[:16]


def code_fingerprints(*, only: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The fingerprint of the code now, then those of earlier code known to compute the same."""
    return equivalent_fingerprints(code_fingerprint(only=only), only=only)


def equivalent_fingerprints(
    current: str, *, only: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    """``current``, then every fingerprint ``EQUIVALENT`` reaches from it, nearest first."""
    found = [current]
    for fingerprint in found:  # grows while it is walked: a breadth-first walk of the chains
        found.extend(e for e in EQUIVALENT.get((only, fingerprint), ()) if e not in found)
    return tuple(found)


def _statements(source: bytes) -> list[str]:
    """A module's top-level statements as AST dumps, without docstrings, imports (at any
    depth), comments and positions (``ast.dump`` leaves out line numbers; comments are not in
    the AST)."""
    tree = _WithoutImportsAndDocstrings().visit(ast.parse(source))
    return [ast.dump(node, annotate_fields=False) for node in tree.body]


class _WithoutImportsAndDocstrings(ast.NodeTransformer):
    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for name in ("body", "orelse", "finalbody"):
            body = getattr(node, name, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                kept = [
                    s
                    for s in body
                    if not isinstance(s, ast.Import | ast.ImportFrom) and not _is_docstring(s)
                ]
                # A body that held only imports or a docstring still is a body.
                setattr(node, name, kept or ([] if isinstance(node, ast.Module) else [ast.Pass()]))
        return node


def _is_docstring(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _sources() -> list[tuple[str, bytes]]:
    if LIB.is_dir():
        return sorted(
            (path.relative_to(LIB).as_posix(), path.read_bytes())
            for path in LIB.rglob("*.py")
            if "__pycache__" not in path.parts
        )
    archive, _, inner = str(LIB).partition(".zip")  # lib imported from a zip
    with zipfile.ZipFile(archive + ".zip") as zf:
        prefix = inner.strip("/\\") + "/"
        return sorted(
            (name[len(prefix) :], zf.read(name))
            for name in zf.namelist()
            if name.startswith(prefix) and name.endswith(".py")
        )
