"""The place x activity naming of the indicator tables, derived from their BACI declaration by one rule.

A run on a place x activity table (``lib.run.place_activity``) computes the same indicators as a
BACI run, but its places are regions, counties or firms and its activities industries, skills or
technology classes: its tables say so. Each indicator table is declared once
(``lib.tables.indicators``); its place x activity twin is derived here by renaming the table
(``TABLE_NAMES``) and the columns (``COLUMN_NAMES``: ``country_code`` -> ``place``, the input's
code as text; ``product`` -> ``activity``; their names likewise; ``iso3``, which only repeated
the place's code, is dropped), and by the same renaming inside the CHECK constraints. Tables
without a country or product column (``fitness_convergence``) are shared as they are.

Declarations only: no code here reads or writes a table.
"""

from __future__ import annotations

import re
from dataclasses import replace

from lib.tables.columns import PLACE_YEAR, YEAR, Column, Table, _c

# BACI table -> its place x activity twin.
TABLE_NAMES = {
    "country_year": "place_year",
    "product_year": "activity_year",
    "country_product_year": "place_activity_year",
    "product_proximity": "activity_proximity",
}

PLACE = _c("place", "string", "The place's code as in the input (e.g. TLI)", nullable=False)
ACTIVITY = _c("activity", "string", "The activity's code as in the input (e.g. 29)", False)
# BACI column -> its place x activity column (None: dropped).
COLUMN_NAMES: dict[str, Column | None] = {
    "country_code": PLACE,
    "iso3": None,
    "country_name": _c("place_name", "string", "The place's name (its code where none is given)"),
    "product": ACTIVITY,
    "description": _c("activity_name", "string", "The activity's name, where the input gives one"),
    "product_a": _c("activity_a", "string", "Code of the first activity", False),
    "product_b": _c("activity_b", "string", "Code of the second activity", False),
    YEAR.name: PLACE_YEAR,
}


def renamed_column(name: str) -> str | None:
    """The place x activity name of a BACI column (None: dropped)."""
    if name in COLUMN_NAMES:
        column = COLUMN_NAMES[name]
        return None if column is None else column.name
    return name


def _renamed_expression(expression: str) -> str:
    def swap(match: re.Match) -> str:
        return renamed_column(match.group(0)) or match.group(0)

    return re.sub(r"\b[a-z_][a-z0-9_]*\b", swap, expression)


def place_activity_table(table: Table) -> Table:
    """The place x activity twin of a BACI indicator table (see the module doc)."""
    columns = []
    for column in table.columns:
        if column.name not in COLUMN_NAMES:
            columns.append(column)
        elif COLUMN_NAMES[column.name] is not None:
            columns.append(COLUMN_NAMES[column.name])
    return replace(
        table,
        name=TABLE_NAMES[table.name],
        comment=f"{table.comment}; a place x activity table's version of {table.name} "
        "(places for countries, activities for products)",
        columns=tuple(columns),
        checks={k: _renamed_expression(v) for k, v in table.checks.items()},
        partition_by=tuple(renamed_column(c) or c for c in table.partition_by),
    )
