"""docs/data-dictionary.md is the one generated from lib/tables/, and the tables are declared once."""

from __future__ import annotations

from lib.tables import TABLES
from lib.tables.markdown import DOC, document


def test_data_dictionary_page_is_current():
    assert DOC.read_text(encoding="utf-8") == document(), (
        "run: .venv/bin/python -m lib.tables.markdown --update"
    )


def test_every_table_is_declared_once_with_unique_columns():
    from lib.tables import baci, bookkeeping, indicators, prediction, regional

    groups = (baci, indicators, prediction, bookkeeping, regional)
    names = [t.name for group in groups for t in group.TABLES]
    assert len(names) == len(set(names)) == len(TABLES)
    for table in TABLES.values():
        assert len(table.column_names) == len(set(table.column_names)), table.name
