"""Names of the Delta tables the report writes (data dictionary: ``docs/report.md``).

Kept here rather than in ``lib.io.delta``: they belong to the report, and BI users and the
notebook depend on them, so they are stable.

Names only: no code here reads or writes a table.
"""

from __future__ import annotations

SECTOR_YEAR = "sector_year"
COUNTRY_TREND_YEAR = "country_trend_year"
COUNTRY_PRODUCTS_CHANGE = "country_products_change"
SPECTROGRAPH = "spectrograph"
NESTED_MATRIX = "nested_matrix"
NESTEDNESS_YEAR = "nestedness_year"
ADJACENT_PRODUCTS = "adjacent_products"

REPORT_TABLES = (
    SECTOR_YEAR,
    COUNTRY_TREND_YEAR,
    COUNTRY_PRODUCTS_CHANGE,
    SPECTROGRAPH,
    NESTED_MATRIX,
    NESTEDNESS_YEAR,
    ADJACENT_PRODUCTS,
)
