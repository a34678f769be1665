"""Product labels at the configured HS level, for the ``product_year`` table.

BACI describes HS6 codes only. An HS4 heading is labelled with the text its HS6 descriptions
share before the first colon ("Horses: live, pure-bred ..." -> "Horses"), the most common one
when they differ; an HS2 chapter with our own chapter table (``lib/data/hs_chapters.csv``).

Must not read tables: it is given the release's code list.
"""

from __future__ import annotations

import pandas as pd

from lib.classifications.hs import chapter_titles


def product_descriptions(products: pd.DataFrame, level: str) -> pd.DataFrame:
    """(product, description) at ``level`` from the HS6 ``baci_products`` rows (a few thousand,
    on the driver)."""
    if level == "hs6":
        return products[["product", "description"]].reset_index(drop=True)
    if level == "hs2":
        return pd.DataFrame(sorted(chapter_titles().items()), columns=["product", "description"])
    heading = pd.DataFrame(
        {
            "product": products["product"].str[:4],
            "description": products["description"].str.split(":").str[0].str.strip(),
        }
    )
    counts = heading.groupby(["product", "description"], dropna=False).size().reset_index()
    counts.columns = ["product", "description", "count"]
    best = counts.sort_values(
        ["product", "count", "description"], ascending=[True, False, True], kind="stable"
    ).drop_duplicates("product")
    return best[["product", "description"]].reset_index(drop=True)
