"""The data dictionary: every output table, its columns, their meaning and their constraints.

This is the single source for the column comments stored in the Delta schema (BI tools show
them), the CHECK/NOT NULL constraints put on the tables, and ``docs/data-dictionary.md``
(``python -m lib.tables.markdown --update`` writes it; a test keeps it in step). The tables are
declared by group (``baci``, ``indicators``, ``bookkeeping``, ``regional``, ``report``); this
package assembles and re-exports them.
"""

from lib.tables.catalogue import BACI_RUN_TABLES, PLACE_ACTIVITY_TABLES, TABLES  # noqa: F401
from lib.tables.columns import COUNTRY, PRODUCT, YEAR, YEAR_RANGE, Column, Table  # noqa: F401
from lib.tables.schemas import (  # noqa: F401
    ARROW_TYPES,
    arrow_file_schema,
    conform,
    spark_schema,
    spark_type,
)
