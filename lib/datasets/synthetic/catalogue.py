"""What a synthetic release is made of: the real chapters, countries and HS92 products, the countries' public profiles, the release sizes, and where every random stream comes from (``_rng``).

Reads the project's own tables (``lib/data``) only; draws no trade.

Must not draw random numbers outside ``_rng``: a release is reproducible from its seed.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from lib.datasets.provenance import SYNTHETIC_PREFIX

GENERATOR_VERSION = "2.2.0"  # 2.2: France vehicles/machinery specialisations (SITC check)
# 2.1: chapter sizes fitted to world shares, GDP per capita, 2010-2020
# No CEPII release uses this id (theirs are V + year + month, e.g. V202401): a synthetic release
# is recognisable from its file names alone, and readers label it synthetic (lib.datasets.provenance).
RELEASE = f"{SYNTHETIC_PREFIX}2401"
HS_REVISION = "92"
DEFAULT_SEED = 42
DEFAULT_SIZE = "small"
Q_WIDTH = 13
NA_SHARE = 0.03
UNSPECIFIED_CODES = ("999999", "9999AA")
ERRATIC_CHAPTERS = ("71", "97")
# BACI's own numeric codes, always kept in every size so readers meet them in the tests.
BACI_SPECIFIC_CODES = (251, 490, 579, 699, 757, 842)
CATALOGUE_SEED = 1992  # the product and country selections do not depend on the trade seed
KEY_FILE = ".synthetic_key"  # written last: a release without it is incomplete
WORLD_KEY_PREFIX = "- world key: "

# Random streams (first element of the SeedSequence spawn key).
_STREAM_WORLD, _STREAM_WALK, _STREAM_YEAR, _STREAM_PAIR, _STREAM_GDP = 0, 1, 2, 3, 4

# Model parameters (see the module docstring).
CAPABILITY_STEP_SD = 0.03
WALK_ANCHOR_YEAR = 2020  # capabilities and sizes equal the profile table's anchors this year
ANCHOR_NOISE_SD = 0.08  # a little noise around the published anchors: the world is synthetic
SIZE_CAPABILITY_CORR, SIZE_STEP_SD = 0.7, 0.04
LOGISTIC_SCALE = 0.3
# Year-to-year persistence: each pair's latent draws are sqrt(P) x a static draw + sqrt(1 - P)
# x a draw of the year, so a pair's status and value change little from one year to the next.
PRESENCE_PERSISTENCE, VALUE_PERSISTENCE = 0.93, 0.93
CHAPTER_FIT_ROUNDS = 60  # iterative fitting of the chapters' sizes to world export shares
SPECIALISATION_REACH = 0.5  # capability gained in a specialised chapter, per unit of log boost
AFFINITY_SD = 0.35  # static country x chapter specialisation of export values (log scale)
REQUIREMENT_MEAN, REQUIREMENT_SD, SECTION_WEIGHT = 1.2, 0.8, 0.7
MIN_COMPETITIVE_SHARE, EASIEST_PROBABILITY = 0.004, 0.9
UNSPECIFIED_PROBABILITY = 0.08  # a country exports an unspecified code (x its size tendency)
PRODUCT_SIZE_SD = 1.2
VALUE_NOISE_SD, ERRATIC_VALUE_NOISE_SD = 1.0, 2.0
NONCOMPETITIVE_RELATIVE = 0.01  # a non-competitive pair's share vs the product's world share
MAX_PAIR_DENSITY = 0.45  # at most this share of country-product cells is exported
MIN_MEAN_IMPORTERS = 1.4  # flow budget / this = most exported pairs we aim for
IMPORTER_SIZE_POWER, SHARE_SIZE_POWER, SHARE_NOISE_SD = 0.8, 0.5, 2.5
PAIR_VALUE_POWER = 0.5
UNIT_PRICE_MEDIAN, UNIT_PRICE_SD, PRICE_NOISE_SD = 4.0, 1.3, 0.5  # thousand USD per ton
WORLD_TOTAL_1995, WORLD_GROWTH = 5.0e9, 0.055  # thousand USD (~$5 trillion in 1995)
FULL_FLOWS = 9_000_000  # world totals scale with the release's share of BACI's flow count

# Synthetic GDP per capita (lib/datasets/synthetic/attributes.py): real World Bank levels of
# 1998-2000 (constant 2000 USD) in GDP_BASE_YEAR, then per year: real growth per person, catch-up
# towards the income the capability predicts, AR(1) shocks; prices (current USD) rise 2 % a year.
GDP_BASE_YEAR, GDP_TREND, GDP_CATCH_UP = 1999, 0.015, 0.015
GDP_SHOCK_SD, GDP_SHOCK_PERSISTENCE, GDP_PRICE_GROWTH = 0.02, 0.5, 0.02
ATTRIBUTES_FILE = "synthetic_country_attributes.csv"  # not BACI: the SYNTHETIC GDP per capita

# How demanding each HS section is on average, read from the Atlas of Economic Complexity's
# product complexity (PCI) by section: instruments, machinery and chemicals high; raw
# agricultural and mineral products, apparel and footwear low.
SECTION_SOPHISTICATION = {
    1: -0.7, 2: -0.9, 3: -0.8, 4: -0.4, 5: -1.0, 6: 0.6, 7: 0.5, 8: -0.6, 9: -0.4, 10: 0.2,
    11: -0.6, 12: -0.8, 13: 0.1, 14: -0.4, 15: 0.2, 16: 0.9, 17: 0.6, 18: 1.0, 19: 0.3, 20: 0.0,
    21: -0.4,
}  # fmt: skip
# Chapters that differ from their section (same source): ores and fuels are the least demanding
# products, pharmaceuticals, photographic goods, aircraft and instruments among the most.
CHAPTER_SOPHISTICATION = {
    "09": -1.1, "08": -1.0, "18": -0.7, "26": -1.4, "27": -1.3, "28": 0.3, "29": 0.6,
    "30": 1.0, "31": -0.3, "37": 1.0, "41": -0.9, "44": -0.6, "47": -0.3, "49": 0.5, "61": -0.9,
    "62": -0.8, "63": -0.8, "72": 0.2, "74": -0.4, "81": 0.5, "82": 0.5, "84": 1.1, "85": 0.8,
    "86": 0.4, "87": 0.7, "88": 1.1, "89": 0.1, "90": 1.2, "91": 0.6, "92": 0.2,
}  # fmt: skip


# --- package data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Chapter:
    hs2: str
    title: str
    section_number: int
    section_roman: str
    section_title: str
    last_heading: str


@dataclass(frozen=True)
class Country:
    code: int
    name: str
    iso2: str
    iso3: str


@dataclass(frozen=True)
class Product:
    code: str
    description: str


def _data_text(name: str) -> str:
    """A file of ``lib/data`` as text; importlib.resources also reads it from a zip."""
    return resources.files("lib.data").joinpath(name).read_text(encoding="utf-8")


def _data_rows(name: str) -> list[dict[str, str]]:
    # csv (not pandas): Namibia's iso2 "NA" must stay a string.
    return list(csv.DictReader(io.StringIO(_data_text(name))))


def load_chapters() -> list[Chapter]:
    """Our HS chapter table (96 chapters of HS 1992: 01-97 without 77)."""
    return [
        Chapter(
            hs2=row["hs2"],
            title=row["chapter_title"],
            section_number=int(row["section_number"]),
            section_roman=row["section_roman"],
            section_title=row["section_title"],
            last_heading=row["last_heading"],
        )
        for row in _data_rows("hs_chapters.csv")
    ]


def load_countries() -> list[Country]:
    """Our BACI country table, sorted by BACI code."""
    rows = _data_rows("baci_countries.csv")
    countries = [
        Country(int(r["country_code"]), r["country_name"], r["country_iso2"], r["country_iso3"])
        for r in rows
    ]
    return sorted(countries, key=lambda c: c.code)


@dataclass(frozen=True)
class CountryProfile:
    """Public figures a country's latent state is anchored to (``lib/data/country_profiles.csv``)."""

    goods_exports_usd_bn: float
    capability_anchor: float


def load_country_profiles() -> dict[int, CountryProfile]:
    """Per BACI country code: approximate goods exports and the ECI-derived capability anchor
    (sources in ``lib/data/SOURCES.md``)."""
    return {
        int(r["country_code"]): CountryProfile(
            float(r["goods_exports_usd_bn"]), float(r["capability_anchor"])
        )
        for r in _data_rows("country_profiles.csv")
    }


def load_chapter_world_exports() -> dict[str, float]:
    """Approximate world goods exports by HS chapter (billions of USD, 2019;
    ``lib/data/chapter_world_exports.csv``): the sizes of the synthetic world's chapters."""
    return {
        r["hs2"]: float(r["world_exports_usd_bn"]) for r in _data_rows("chapter_world_exports.csv")
    }


# --- product catalogue -----------------------------------------------------------------------


def hs92_products() -> list[Product]:
    """The real HS92 subheadings with their official descriptions (``lib/data/hs92_products.csv``,
    CEPII BACI V202401's list, Etalab 2.0), including BACI's 999999 and 9999AA."""
    rows = _data_rows("hs92_products.csv")
    return sorted((Product(r["code"], r["description"]) for r in rows), key=lambda p: p.code)


def read_product_codes(path: str | os.PathLike[str]) -> list[Product]:
    """Products of a real BACI ``product_codes_HS*_V*.csv`` (``code,description``) as text."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        products = [Product(row["code"].strip().zfill(6), row["description"]) for row in reader]
    if not products:
        raise ValueError(f"{path}: no product codes found")
    return sorted(products, key=lambda p: p.code)


# --- sizes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SizeSpec:
    """A release size. ``n_products=None`` means the whole product catalogue.

    ``flows_per_year`` is a target: a year never has fewer rows than competitively exported
    country-product pairs, whatever the target. ``countries``: ``largest`` takes the largest
    exporters (a world of the main trading economies), ``spread`` spreads its countries evenly
    over the size ranking (a small sample shaped like the whole world: mostly small, poor
    economies, so a right-skewed diversification). BACI's own codes and the report's countries
    are always in.
    """

    years: tuple[int, ...]
    n_countries: int
    n_products: int | None
    flows_per_year: int
    name: str = "custom"
    countries: str = "largest"

    def __post_init__(self) -> None:
        if not self.years:
            raise ValueError("SizeSpec.years must not be empty")
        if any(not 1900 <= y <= 2100 for y in self.years):
            raise ValueError(f"SizeSpec.years must lie between 1900 and 2100: {self.years}")
        if self.n_countries < 3:
            raise ValueError("SizeSpec.n_countries must be at least 3")
        if self.n_products is not None and self.n_products < 10:
            raise ValueError("SizeSpec.n_products must be at least 10 (or None for all)")
        if self.flows_per_year < 1:
            raise ValueError("SizeSpec.flows_per_year must be positive")
        if self.countries not in ("largest", "spread"):
            raise ValueError("SizeSpec.countries must be 'largest' or 'spread'")


SIZES: dict[str, SizeSpec] = {
    "tiny": SizeSpec((2018, 2019, 2020), 30, 300, 4_000, "tiny", countries="spread"),
    "small": SizeSpec(tuple(range(2010, 2021)), 150, None, 200_000, "small"),
    "full": SizeSpec(tuple(range(1995, 2025)), 227, None, 9_000_000, "full"),
}


def resolve_size(size: str | SizeSpec) -> SizeSpec:
    if isinstance(size, SizeSpec):
        return size
    try:
        return SIZES[size]
    except KeyError:
        raise ValueError(
            f"unknown size '{size}'; use one of {sorted(SIZES)} or a SizeSpec"
        ) from None


# --- the latent world ------------------------------------------------------------------------


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


# The report's comparison set (GBR, DEU, ITA, JPN, CAN with 251 France and 842 USA above), so
# `jobs/report.py --country GBR --compare DEU,FRA,ITA,USA,JPN,CAN` works on every release size.
REPORT_COUNTRY_CODES = frozenset({826, 276, 380, 392, 124})


def _select_countries(
    countries: Sequence[Country], profiles: dict[int, CountryProfile], spec: SizeSpec
) -> list[Country]:
    """``spec.n_countries`` countries: BACI's own codes (251, 842, ...) and the report's
    comparison countries, then the largest exporters or a spread (``SizeSpec.countries``)."""
    n = spec.n_countries
    if n > len(countries):
        raise ValueError(f"n_countries={n}, but the country table has only {len(countries)}")
    always = set(BACI_SPECIFIC_CODES) | REPORT_COUNTRY_CODES
    keep = [c for c in countries if c.code in always][:n]
    others = sorted(
        (c for c in countries if c.code not in always),
        key=lambda c: (-profiles[c.code].goods_exports_usd_bn, c.code),
    )
    free = n - len(keep)
    if spec.countries == "spread":
        others = [others[i] for i in np.linspace(0, len(others) - 1, free).round().astype(int)]
    return sorted(keep + others[:free], key=lambda c: c.code)


def _select_products(products: Sequence[Product], n: int | None) -> list[Product]:
    """n products by a fixed draw that always keeps the unspecified and some erratic codes."""
    if n is None or n >= len(products):
        return list(products)
    rng = np.random.default_rng(CATALOGUE_SEED)
    must = [i for i, p in enumerate(products) if p.code in UNSPECIFIED_CODES]
    for chapter, count in (("71", 3), ("97", 2)):
        members = [i for i, p in enumerate(products) if p.code.startswith(chapter)]
        if members:
            must.extend(rng.choice(members, size=min(count, len(members)), replace=False))
    must = sorted(set(must))[:n]
    rest = np.setdiff1d(np.arange(len(products)), must)
    picked = rng.choice(rest, size=n - len(must), replace=False)
    return [products[i] for i in sorted([*must, *picked.tolist()])]
