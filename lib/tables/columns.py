"""The building blocks of the data dictionary: a column, a table, and the columns many tables share.

Plain frozen records, no Spark: the definitions (``lib.tables.baci`` ...) use them and
``lib.tables.schemas`` turns them into Spark and Arrow schemas.
"""

from __future__ import annotations

from dataclasses import dataclass, field

YEAR_RANGE = "year BETWEEN 1962 AND 2100"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Spark SQL type
    comment: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    comment: str
    columns: tuple[Column, ...]
    checks: dict[str, str] = field(default_factory=dict)
    partition_by: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, type_: str, comment: str, nullable: bool = True) -> Column:
    return Column(name, type_, comment, nullable)


YEAR = _c("year", "int", "Calendar year of the BACI flows", nullable=False)
COUNTRY = _c(
    "country_code",
    "int",
    "BACI country code (ISO 3166 numeric except e.g. 251 France, 842 USA, 490 Other Asia nes)",
    nullable=False,
)
PLACE_YEAR = _c("year", "int", "Calendar year of the place x activity table", nullable=False)
PRODUCT = _c(
    "product",
    "string",
    "HS code at the configured level (products.level: 2, 4 or 6 digits, leading zeros kept)",
    nullable=False,
)
