"""The data dictionary as Markdown: ``docs/data-dictionary.md`` is generated from ``lib.tables``.

python -m lib.tables.markdown            print it
python -m lib.tables.markdown --update   rewrite docs/data-dictionary.md (a test keeps it in step)

Must not be edited by hand in its output: docs/data-dictionary.md is regenerated.
"""

from __future__ import annotations

from pathlib import Path

from lib.tables.catalogue import TABLES


def markdown() -> str:
    """The data dictionary as Markdown: every table, its columns and constraints."""
    out = []
    for table in TABLES.values():
        out.append(f"### `{table.name}`\n\n{table.comment}.")
        if table.partition_by:
            out[-1] += f" Partitioned by {', '.join(table.partition_by)}."
        out.append("\n| column | type | meaning |\n|---|---|---|")
        for c in table.columns:
            required = "" if c.nullable else " (never null)"
            out.append(f"| `{c.name}` | {c.type} | {c.comment}{required} |")
        if table.checks:
            checks = "; ".join(f"`{expr}`" for expr in table.checks.values())
            out.append(f"\nConstraints: {checks}.")
        out.append("")
    return "\n".join(out)


DOC = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"
INTRO = """# Data dictionary

Generated from `lib/tables/` by `python -m lib.tables.markdown --update` (a test keeps this page
in step with the code); do not edit by hand. The same text is stored as table and column
comments in each Delta table's schema, which BI tools show. The country report's tables are
described in [report.md](report.md#tables-written-data-dictionary). A run on a place x activity
table writes `place_year`, `activity_year`, `place_activity_year` and `activity_proximity`: the
country and product tables under the names of places and activities, derived from them by one
renaming rule (`lib/tables/naming.py`; [regional.md](regional.md)).

"""


def document() -> str:
    """The whole page ``docs/data-dictionary.md``."""
    return INTRO + markdown()


if __name__ == "__main__":
    import sys

    if "--update" in sys.argv:
        DOC.write_text(document(), encoding="utf-8")
    else:
        print(document())
