"""Our own table of the Harmonized System's chapters and sections (public WCO nomenclature).

``lib/data/hs_chapters.csv``: hs2, chapter_title, section_number, section_roman, section_title,
last_heading. It labels HS2 products, drives the synthetic generator and the default sector
mapping of the country report.

Must not know about trade values: it labels and groups codes only.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources


@cache
def hs_chapters() -> tuple[dict[str, str], ...]:
    text = resources.files("lib.data").joinpath("hs_chapters.csv").read_text(encoding="utf-8")
    return tuple(csv.DictReader(io.StringIO(text)))


def chapter_titles() -> dict[str, str]:
    return {row["hs2"]: row["chapter_title"] for row in hs_chapters()}
