"""The tables only a place x activity run writes: the dataset's description, places, activities, quarantine and the regional measures.

Read by lib.io.place_activity, computed by lib.measures.regional. Declarations only (name,
comment, columns, constraints); ``lib.tables`` assembles them into
``TABLES``. No code here reads or writes a table.
"""

from __future__ import annotations

from lib.tables.columns import PLACE_YEAR, YEAR_RANGE, Table, _c
from lib.tables.naming import ACTIVITY, PLACE

TABLES = [
    Table(
        "place_activity_dataset",
        "What the places and activities of a warehouse built from a place x activity table "
        "are (one row: the input of the last run)",
        (
            _c(
                "dataset",
                "string",
                "Name of the dataset (uk-regions, or the file's stem)",
                False,
            ),
            _c("source", "string", "The table read (path)", False),
            _c("place_kind", "string", "What a place is: country, region, ...", False),
            _c(
                "activity_classification",
                "string",
                "Classification of the activities: HS, SITC, SIC 2007, NAICS, ...",
                False,
            ),
            _c("value_measure", "string", "What the values are: employees, exports, ..."),
            _c("synthetic", "boolean", "True if the data are SYNTHETIC (made up)", False),
            _c("note", "string", "Origin of the data, as the run was told"),
            _c("run_id", "string", "Run that read the table", False),
        ),
    ),
    Table(
        "places",
        "The places of a place x activity table (the place of the other tables in that warehouse)",
        (
            PLACE,
            _c("place_name", "string", "The place's name, where the input gives one"),
        ),
    ),
    Table(
        "activities",
        "The activities of a place x activity table (the activity of the other tables in that "
        "warehouse)",
        (
            ACTIVITY,
            _c("activity_name", "string", "The activity's name, where the input gives one"),
            _c(
                "parent_activity",
                "string",
                "The coarser activity it belongs to (e.g. SIC section C), where given",
            ),
        ),
    ),
    Table(
        "place_activity_quarantine",
        "Rows of a place x activity table that were not accepted, with file, line and reason",
        (
            _c("source_file", "string", "The table read", False),
            _c(
                "line_number",
                "bigint",
                "Physical line number (CSV, header = 1) or row number (Parquet, Delta)",
                False,
            ),
            _c("reason", "string", "Why the row was rejected", False),
            _c("raw_line", "string", "The row's fields as read, comma-separated"),
            _c("run_id", "string", "Run that read the table", False),
        ),
    ),
    Table(
        "place_structure_year",
        "Yearly specialisation of each place's structure (EconGeo's definitions, on shares)",
        (
            PLACE_YEAR,
            PLACE,
            _c("total_value", "double", "Sum of the place's values (e.g. employees)", False),
            _c("specialisations", "int", "Activities with location quotient >= 1 (M = 1)"),
            _c(
                "krugman_index",
                "double",
                "Krugman specialisation index: sum_a |X_pa/X_p - X_a/X| (0 = the total's "
                "structure, up to 2)",
            ),
            _c(
                "herfindahl_index",
                "double",
                "Herfindahl index of the place's structure: sum_a (X_pa/X_p)^2",
            ),
            _c(
                "shannon_entropy",
                "double",
                "Shannon entropy of the place's structure, bits: -sum_a s log2 s",
            ),
        ),
        {
            "year_range": YEAR_RANGE,
            "herfindahl_share": "herfindahl_index IS NULL OR "
            "(herfindahl_index > 0 AND herfindahl_index <= 1.000000001)",
        },
    ),
    Table(
        "activity_concentration_year",
        "Yearly geographic concentration of each activity",
        (
            PLACE_YEAR,
            ACTIVITY,
            _c("total_value", "double", "Sum of the activity's values", False),
            _c("specialised_places", "int", "Places with location quotient >= 1 (M = 1)"),
            _c(
                "hoover_index",
                "double",
                "Hoover index: 1/2 sum_p |X_pa/X_a - X_p/X| (0 = spread like all "
                "activities, up to 1; EconGeo prints it x 100)",
            ),
            _c(
                "locational_gini",
                "double",
                "Locational Gini (Krugman 1991): area between the diagonal and the "
                "localisation curve (0 to 0.5)",
            ),
        ),
        {"year_range": YEAR_RANGE},
    ),
    Table(
        "specialisation_changes",
        "Specialisations (location quotient >= 1) each place entered or exited since the "
        "previous year of the table",
        (
            PLACE_YEAR,
            _c("from_year", "int", "The previous year of the table", False),
            PLACE,
            ACTIVITY,
            _c("change", "string", "entry (M 0 -> 1) or exit (M 1 -> 0)", False),
        ),
        {"year_range": YEAR_RANGE, "change_kind": "change IN ('entry', 'exit')"},
    ),
]
