"""Every output table by name (``TABLES``), in the order the data dictionary lists them.

Declarations only: no code here reads or writes a table.
"""

from __future__ import annotations

from lib.tables import baci, bookkeeping, indicators, prediction, regional
from lib.tables.columns import Table

TABLES: dict[str, Table] = {
    t.name: t
    for group in (baci, indicators, prediction, bookkeeping, regional)
    for t in group.TABLES
}


# Tables only a run on a place x activity table writes (lib.run.place_activity); a BACI run
# writes the others.
PLACE_ACTIVITY_TABLES = (
    "place_activity_dataset",
    "places",
    "activities",
    "place_activity_quarantine",
    "place_structure_year",
    "activity_concentration_year",
    "specialisation_changes",
)
# Tables a BACI run writes only with input.country_attributes (the GDP per capita series).
WITH_COUNTRY_ATTRIBUTES_TABLES = tuple(t.name for t in prediction.GROWTH_TABLES)
BACI_RUN_TABLES = tuple(
    name
    for name in TABLES
    if name not in PLACE_ACTIVITY_TABLES and name not in WITH_COUNTRY_ATTRIBUTES_TABLES
)
