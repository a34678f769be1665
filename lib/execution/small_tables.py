"""The indicator stage's small tables, shaped on the driver from the tasks' collected rows.

``country_year`` (every country that traded in a year, with its names) and ``product_year``
(every product with its description) from the per-country and per-product rows the yearly tasks
(in-task or distributed) return as Arrow: a few thousand rows a year for BACI, one row a
place-year for a tall table.

Must not hold a formula or touch Spark.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
from pyspark.sql.pandas.types import to_arrow_schema

from lib.execution.years import conformed_frame
from lib.tables import spark_schema


def country_year_rows(traded: pa.Table, country: pa.Table, names: pd.DataFrame) -> pa.Table:
    """Every country that traded in the year (exporter or importer), with its yearly rows and
    its names (country_code, iso3, country_name)."""
    names = names.drop_duplicates("country_code")
    rows = (
        traded.to_pandas()
        .merge(country.to_pandas(), on=["year", "country_code"], how="left")
        .merge(names, on="country_code", how="left")
    )
    rows["export_value"] = rows["export_value"].fillna(0.0)
    rows["in_core"] = rows["in_core"].astype("boolean").fillna(False)  # importers only: not in it
    schema = spark_schema("country_year")
    ordered = conformed_frame(rows.sort_values(["year", "country_code"]), schema)
    return pa.Table.from_pandas(ordered, schema=to_arrow_schema(schema), preserve_index=False)


def product_year_rows(product: pa.Table, descriptions: pd.DataFrame) -> pa.Table:
    """Every product's yearly rows and its description (product, description)."""
    rows = product.to_pandas().merge(descriptions, on="product", how="left")
    schema = spark_schema("product_year")
    ordered = conformed_frame(rows.sort_values(["year", "product"]), schema)
    return pa.Table.from_pandas(ordered, schema=to_arrow_schema(schema), preserve_index=False)
