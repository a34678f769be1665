"""Every output table by name (``TABLES``), in the order the data dictionary lists them.

Declarations only: no code here reads or writes a table.
"""

from __future__ import annotations

from lib.tables import baci, bookkeeping, indicators, prediction, regional
from lib.tables.columns import Table
from lib.tables.naming import TABLE_NAMES, place_activity_table

TABLES: dict[str, Table] = {
    t.name: t
    for group in (baci, indicators, prediction, bookkeeping, regional)
    for t in group.TABLES
}
# The indicator tables of a place x activity run: derived from the BACI ones (lib.tables.naming).
TABLES.update({t.name: t for t in (place_activity_table(TABLES[n]) for n in TABLE_NAMES)})


# Tables only a run on a place x activity table writes (lib.run.place_activity), with
# fitness_convergence and run_log; a BACI run writes the others.
PLACE_ACTIVITY_TABLES = (
    *TABLE_NAMES.values(),
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
# Tables a BACI run writes only with product_space.projection = "bicm".
WITH_BICM_PROJECTION_TABLES = ("product_bicm_links",)
BACI_RUN_TABLES = tuple(
    name
    for name in TABLES
    if name not in PLACE_ACTIVITY_TABLES
    and name not in WITH_COUNTRY_ATTRIBUTES_TABLES
    and name not in WITH_BICM_PROJECTION_TABLES
)
