"""Product labels at the configured HS level, for the ``product_year`` table.

BACI describes HS6 codes only. An HS4 heading is labelled with the text its HS6 descriptions
share before the first colon ("Horses: live, pure-bred ..." -> "Horses"), the most common one
when they differ; an HS2 chapter with our own chapter table (``lib/data/hs_chapters.csv``).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lib.hs import chapter_titles


def product_descriptions(products: DataFrame, level: str) -> DataFrame:
    """(product, description) at ``level`` from the HS6 ``baci_products`` table."""
    if level == "hs6":
        return products.select("product", "description")
    if level == "hs2":
        spark = products.sparkSession
        titles = chapter_titles()
        return spark.createDataFrame(sorted(titles.items()), "product string, description string")
    heading = (
        products.select(
            F.substring("product", 1, 4).alias("product"),
            F.trim(F.split("description", ":").getItem(0)).alias("description"),
        )
        .groupBy("product", "description")
        .count()
    )
    best = Window.partitionBy("product").orderBy(F.col("count").desc(), F.col("description"))
    return (
        heading.withColumn("_n", F.row_number().over(best))
        .where(F.col("_n") == 1)
        .select("product", "description")
    )
