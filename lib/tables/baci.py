"""The BACI input tables: flows as read, quarantined rows, the release's code lists.

Declarations only (name, comment, columns, constraints); ``lib.tables`` assembles them into
``TABLES``. No code here reads or writes a table.
"""

from __future__ import annotations

from lib.tables.columns import YEAR, YEAR_RANGE, Table, _c

TABLES = [
    Table(
        "baci_flows",
        "Bilateral trade flows as read from BACI, one row per (year, exporter, importer, HS6 product)",
        (
            YEAR,
            _c("exporter", "int", "BACI code of the exporting country", False),
            _c("importer", "int", "BACI code of the importing country", False),
            _c(
                "product",
                "string",
                "HS6 product code (6 characters, leading zeros kept)",
                False,
            ),
            _c("value", "double", "Trade value, thousands of current USD", False),
            _c("quantity", "double", "Quantity, metric tons; null where BACI has NA"),
            _c("hs_revision", "string", "HS revision of the release (HS92, HS17, ...)", False),
            _c("release", "string", "BACI release (e.g. V202401; SYNTH2401: synthetic)", False),
        ),
        {
            "value_positive": "value > 0",
            "year_range": YEAR_RANGE,
            "not_self_trade": "exporter <> importer",
            "product_hs6": "length(product) = 6",
        },
        ("year",),
    ),
    Table(
        "baci_quarantine",
        "Rows of BACI files that were not accepted, with file, line and reason",
        (
            _c("source_file", "string", "File (or zip!member) the row came from", False),
            _c("source_year", "int", "Year in the file name", False),
            _c("line_number", "bigint", "Physical line number in the file (header = 1)", False),
            _c("reason", "string", "Why the row was rejected", False),
            _c("raw_line", "string", "The line as read"),
            _c("release", "string", "BACI release", False),
            _c("run_id", "string", "Run that read the file", False),
        ),
    ),
    Table(
        "baci_countries",
        "BACI country list of the ingested release",
        (
            _c("country_code", "int", "BACI country code", False),
            _c("country_name", "string", "Country name"),
            _c("iso2", "string", "ISO 3166 alpha-2 code (null where BACI has none)"),
            _c(
                "iso3",
                "string",
                "ISO 3166 alpha-3 code; not unique in BACI (e.g. BEL for 56 and 58)",
            ),
            _c("release", "string", "BACI release", False),
        ),
    ),
    Table(
        "baci_products",
        "BACI HS6 product list of the ingested release",
        (
            _c("product", "string", "HS6 code", False),
            _c("description", "string", "BACI description"),
            _c("hs_revision", "string", "HS revision", False),
            _c("release", "string", "BACI release", False),
        ),
    ),
]
