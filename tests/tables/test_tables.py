"""docs/data-dictionary.md is the one generated from lib/tables/, and the tables are declared once."""

from __future__ import annotations

from lib.tables import TABLES
from lib.tables.markdown import DOC, document
from lib.tables.naming import COLUMN_NAMES, TABLE_NAMES


def test_data_dictionary_page_is_current():
    assert DOC.read_text(encoding="utf-8") == document(), (
        "run: .venv/bin/python -m lib.tables.markdown --update"
    )


def test_every_table_is_declared_once_with_unique_columns():
    from lib.tables import baci, bookkeeping, indicators, prediction, regional

    groups = (baci, indicators, prediction, bookkeeping, regional)
    names = [t.name for group in groups for t in group.TABLES]
    derived = list(TABLE_NAMES.values())  # the place x activity twins (lib.tables.naming)
    assert len(names) + len(derived) == len(set(names) | set(derived)) == len(TABLES)
    for table in TABLES.values():
        assert len(table.column_names) == len(set(table.column_names)), table.name


def test_place_activity_twins_follow_the_one_renaming_rule():
    """Each twin is its BACI table with country / product columns renamed (iso3 dropped),
    the rest (types, comments, constraints) the same."""
    for baci_name, name in TABLE_NAMES.items():
        source, twin = TABLES[baci_name], TABLES[name]
        kept = [c for c in source.columns if c.name != "iso3"]
        assert [COLUMN_NAMES.get(c.name, c).name for c in kept] == twin.column_names
        for old, new in zip(kept, twin.columns, strict=True):
            if old.name not in COLUMN_NAMES:
                assert old == new
        assert not {"country_code", "product", "iso3", "product_a"} & set(twin.column_names)
        assert twin.checks.keys() == source.checks.keys()
    assert TABLES["activity_proximity"].checks["no_diagonal"] == "activity_a <> activity_b"
    for name in ("places", "activities", "place_structure_year", "specialisation_changes"):
        assert not {"country_code", "product"} & set(TABLES[name].column_names), name
