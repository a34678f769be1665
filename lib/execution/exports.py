"""Flows -> exports by year, country and product: the input of every indicator.

X_cp is the sum of a country's flows of a product over all importers. Products are taken at the
configured HS level (HS4 by default: the report's "just over 1,000 categories"). The report's
"erratic items" (HS chapters 71 and 97) and BACI's unspecified codes (9999AA, 999999) are left out
before aggregation. The optional size thresholds (the Atlas preset) are the yearly core's
(``lib.measures.yearly.year_presence``).

Must not compute indicators: it only aggregates and selects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lib.io.baci import UNSPECIFIED_PREFIX
from lib.io.filesystems import arrow_filesystem, is_local

LEVEL_DIGITS = {"hs2": 2, "hs4": 4, "hs6": 6}

Transform = Callable[[DataFrame], DataFrame]


def product_at_level(level: str, column: str = "product") -> Column:
    """The HS2/HS4 prefix of a 6-character HS code, or the code itself at HS6."""
    return F.substring(F.col(column), 1, LEVEL_DIGITS[level])


def exclude_erratic_items(chapters: Iterable[str], unspecified: bool = True) -> Transform:
    """Drop flows in the given HS chapters and, optionally, BACI's 9999xx unspecified codes."""
    chapters = list(chapters)

    def _transform(flows: DataFrame) -> DataFrame:
        keep = ~F.substring("product", 1, 2).isin(chapters) if chapters else F.lit(True)
        if unspecified:
            keep = keep & ~F.col("product").startswith(UNSPECIFIED_PREFIX)
        return flows.where(keep)

    return _transform


def country_product_exports(level: str) -> Transform:
    """Flows (year, exporter, importer, product, value) -> (year, country_code, product, export_value)."""

    def _transform(flows: DataFrame) -> DataFrame:
        return (
            flows.groupBy(
                "year",
                F.col("exporter").alias("country_code"),
                product_at_level(level).alias("product"),
            )
            .agg(F.sum("value").alias("export_value"))
            .where(F.col("export_value") > 0)
        )

    return _transform


def year_exports_from_files(
    files: Sequence[str], level: str, chapters: Iterable[str], unspecified: bool = True
) -> tuple[pa.Table, pa.Array]:
    """One year's flows, read from its Parquet data files, to (exports, traded countries).

    The same selection and sums as ``exclude_erratic_items`` and ``country_product_exports``,
    by DuckDB (one thread: it runs inside a Spark task) straight from the files:
    ``country_code, product, export_value`` with export_value > 0, and every country that
    exported or imported (``country_code``). WHY: this aggregation is most of the indicators'
    time at HS6 in Spark (~5 s of CPU a year, hashing 9 million string keys); DuckDB takes ~1 s.
    """
    chapters = list(chapters)
    if not all(len(c) == 2 and c.isdigit() for c in chapters):  # as products.erratic_chapters
        raise ValueError(f"HS chapters are two digits, not {chapters}")
    keep = ["true"]
    if chapters:
        keep.append(f"substr(product, 1, 2) NOT IN ({', '.join(repr(c) for c in chapters)})")
    if unspecified:
        keep.append(f"NOT starts_with(product, '{UNSPECIFIED_PREFIX}')")
    con = duckdb.connect(config={"threads": 1})
    try:
        source, parameters = _flow_source(con, files)
        exports = con.execute(
            f"""
            SELECT exporter::INTEGER AS country_code,
                   substr(product, 1, {LEVEL_DIGITS[level]}) AS product,
                   sum(value)::DOUBLE AS export_value
            FROM {source}
            WHERE {" AND ".join(keep)}
            GROUP BY ALL
            HAVING sum(value) > 0
            """,
            parameters,
        ).fetch_arrow_table()
        traded = con.execute(
            f"""
            SELECT DISTINCT country_code::INTEGER AS country_code FROM (
                SELECT exporter AS country_code FROM {source}
                UNION ALL SELECT importer FROM {source})
            """,
            parameters,
        ).fetch_arrow_table()
    finally:
        con.close()
    return exports, traded.column("country_code").combine_chunks()


def _flow_source(con: duckdb.DuckDBPyConnection, files: Sequence[str]) -> tuple[str, dict]:
    """The SQL relation of the flow files: DuckDB's own Parquet reader for local files; an
    Arrow dataset over Arrow's filesystem for an object store (``s3://``: DuckDB scans it in
    batches, reading only the columns it needs), with the credentials Arrow finds in the
    environment, as the Arrow writer's tasks do."""
    files = list(files)
    if all(is_local(f) for f in files):
        return "read_parquet($files)", {"files": files}
    import pyarrow.dataset as ds

    fs, _ = arrow_filesystem(files[0])
    paths = [arrow_filesystem(f)[1] for f in files]
    con.register("flow_files", ds.dataset(paths, filesystem=fs, format="parquet"))
    return "flow_files", {}


@dataclass(frozen=True)
class ProductSelection:
    """Which flows become exports, and at which level (the ``products`` settings)."""

    level: str = "hs4"
    erratic_chapters: tuple[str, ...] = ()  # left out; () keeps every chapter
    exclude_unspecified: bool = True


def exports_for_indicators(flows: DataFrame, products: ProductSelection) -> DataFrame:
    """Exports at the configured product level (year, country_code, product, export_value),
    erratic items and unspecified codes left out; the size thresholds are applied by the
    yearly core (``lib.measures.yearly.year_presence``)."""
    exports = flows.transform(
        exclude_erratic_items(products.erratic_chapters, products.exclude_unspecified)
    ).transform(country_product_exports(products.level))
    return exports.select(
        F.col("year").cast("int"),
        F.col("country_code").cast("int"),
        F.col("product").cast("string"),
        F.col("export_value").cast("double"),
    )
