"""Synthetic CEPII BACI releases: the project's embedded default dataset and its benchmark data.

The real BACI cannot be redistributed with the code, yet the pipeline, its tests and its
benchmarks need data with BACI's exact layout and with the statistical shape that economic
complexity depends on (a nested, skewed country-product matrix). This module generates such a
release, deterministically from a seed, at three built-in sizes (or any :class:`SizeSpec`):

==========  ===========  =========  ==========  ======================  ===================
size        years        countries  products    flows per year          use
==========  ===========  =========  ==========  ======================  ===================
``tiny``    2018-2020    30         300         ~4 thousand             unit tests (< 2 s)
``small``   2016-2020    150        5,022       ~450 thousand           default release
``full``    1995-2024    227        5,022       ~9 million (~400 MB)    scale benchmarks
==========  ===========  =========  ==========  ======================  ===================

The data are synthetic and say so: the release id ``SYNTH2401`` is no CEPII release's (theirs
are ``V`` + year + month), a ``SYNTHETIC.md`` note lies beside the files, and the pipeline
labels every output of such a release synthetic (``lib/datasets/provenance.py``).

Layout (as CEPII's ``BACI_HS92_V202401``, with our release id)
--------------------------------------------------------------
- ``BACI_HS92_Y{year}_SYNTH2401.csv``: header ``t,i,j,k,v,q``; ``k`` is a 6-character code with
  leading zeros; ``v`` thousands of current USD with exactly three decimals (at least 0.001);
  ``q`` metric tons with three decimals, right-aligned with spaces to width 13 (``Q_WIDTH``), or
  ``NA`` right-aligned the same way (~3 % of rows). Rows are sorted by ``i, j, k``; ``i != j``;
  no ``(t, i, j, k)`` appears twice. Width 13 is what the real rows in
  ``../shared/data/real/baci_hs17_y2020_sample`` show (e.g. ``"        0.001"``); longer numbers
  are not cut, as in BACI.
- ``country_codes_SYNTH2401.csv`` (``country_code,country_name,country_iso2,country_iso3``)
  lists our whole country table (as BACI's lists more countries than any one year has);
  ``product_codes_HS92_SYNTH2401.csv`` (``code,description``) lists the release's products.
- Not part of BACI, for tests: ``latent_truth.csv`` (``year,country_code,capability``),
  ``latent_products.csv`` (``product,requirement``) and ``SYNTHETIC.md`` (seed, size, version).

Countries and products: real, from our tables (sources in ``lib/data/SOURCES.md``)
-----------------------------------------------------------------------------------
- Products are the real HS92 subheadings with their official descriptions
  (``lib/data/hs92_products.csv``: CEPII BACI V202401's list, Etalab 2.0), including BACI's
  "not specified according to kind" codes 999999 and 9999AA. ``product_codes=`` (another
  CEPII ``product_codes_HS*_V*.csv``) replaces them.
- Countries are BACI's (``lib/data/baci_countries.csv``). Each has a profile
  (``lib/data/country_profiles.csv``): approximate goods exports (around 2021) and a capability
  anchor, the approximate Atlas of Economic Complexity ECI (our estimate for the countries the
  Atlas does not rank). ``small`` and ``full`` take the largest exporters (``small``: the 150
  largest); ``tiny`` spreads its countries over the size ranking; BACI's own codes (251, 842,
  ...) and the report's countries (GBR, DEU, FRA, ITA, USA, JPN, CAN) are always in.

Model
-----
All randomness comes from ``numpy.random.Generator`` streams derived from the seed with
``SeedSequence(seed, spawn_key=(stream, ...))``, so each year is reproducible on its own (and
years can be generated in parallel) whatever other years are asked for.

1. Countries have a latent *capability* ``a_c`` equal to their anchor plus ``N(0, 0.08)`` in
   2020 (``WALK_ANCHOR_YEAR``), following a slow random walk over the years (steps
   ``N(0, 0.03)``), and an *economy size* ``S_c``: their goods exports (times a little noise)
   in 2020, moving with capability and with steps of their own. Products have a *requirement*
   ``r_p = 1.2 + 0.7 offset + N(0, 0.8)`` where the offset of the product's chapter or section
   follows the Atlas's product complexity by section (instruments, machinery, pharmaceuticals
   and chemicals high; ores, fuels, raw agricultural products, apparel and footwear low; see
   ``SECTION_SOPHISTICATION``, ``CHAPTER_SOPHISTICATION``), a log-normal *size* and a
   log-normal *unit price* (higher for demanding products, ~50 times higher in chapters 71 and
   97).
2. Country c exports p *competitively* when a draw ``u_cp`` falls below
   ``logistic((a_c - r_p) / 0.3)`` (and every country is competitive in a few of the 0.4 %
   least demanding products). One latent order drives every product, so the matrix is nested
   (capable countries export nearly everything, weak ones only the least demanding products);
   since requirements sit mostly above the typical capability, diversification is right-skewed.
   The draws persist: ``u_cp`` comes from ``sqrt(0.93) x`` a static normal of the pair ``+
   sqrt(0.07) x`` one of the year (``PRESENCE_PERSISTENCE``), so a pair's status rarely flips
   between years, as in real trade.
3. Other pairs are exported now and then ("non-competitive", e.g. re-exports; more often by
   large economies; persistent draws as well) with a tiny value: 1 % of the product's expected
   share of the country's exports, so their RCA is far below 1 but above 0. Their frequency is
   solved so that exported pairs fill the size's flow budget (at most 45 % of all cells).
   Country c exports ``world_total(year) * S_c / sum(S)`` in all; what the non-competitive
   pairs leave is split over its competitive products in proportion to product size x a static
   country x chapter *affinity* x persistent log-normal noise (``VALUE_PERSISTENCE``). The
   affinity is log-normal (sd 0.35) plus the known main export sectors of the report's
   countries and of large exporters (``lib/data/specialisations.csv``: aircraft and beverages
   for France, vehicles and machinery for Germany, fuels for oil exporters, ...); half of such a
   boost also adds to the country's capability in that chapter (``SPECIALISATION_REACH``), so
   it exports the chapter's demanding products too.
4. Each exported pair goes to ``1 + Poisson(lambda_cp)`` distinct importers, ``lambda``
   growing with the pair's value and scaled so the year has ~``flows_per_year`` flows. Importers
   are drawn without replacement with probability proportional to ``S_j^0.8`` (exponential-key
   sampling); their shares are ``S_j^0.5`` times log-normal noise (sd 2.5, so flow values spread
   over orders of magnitude as in BACI). Quantity = value / (unit price x log-normal noise);
   3 % of quantities are ``NA``.
5. Chapters 71 and 97 (the pipeline's "erratic" items) have twice the value noise; the codes
   999999 and 9999AA are never competitive and exported by a few countries a year.

Calibration, measured on the default release (seed 42, 2020, through the pipeline's yearly
core at HS4; ``tests/datasets/test_synthetic.py``): the ECI top 10 holds 8 of the Atlas 2020 top 10
(CHE, JPN, DEU, KOR, SGP, Taiwan, GBR, CZE, USA, AUT); the Atlas 2017 bottom 10 rank 133-149 of
150; Fitness ranks Germany, Japan, Korea, Switzerland, Singapore and the USA first (Italy 11,
China 13, France 24, Chad 144); the year-to-year correlation of log exports of the same country
and product is 0.965; the median year-to-year change of the 15 goods-sector RCAs of the seven
report countries is 0.060; sector RCAs show the known strengths (aerospace: UK 3.4, France 4.0,
USA 3.9; Germany transport equipment 2.3 and machinery 2.5). Seeds 1 and 2: ECI overlap 9 of
10, bottom 10 ranked 131-150, correlation 0.965.

Measured on the project machine (one core of 2, otherwise idle): tiny in ~0.5 s, small (5
years, ~90 MB) in ~15 s, one full-width year (9 million flows, ~370 MB) in ~15 s with ~1.1 GB
peak memory. Each year is simulated in numpy and formatted and written with Arrow; a process
holds one year at a time (``workers=N`` runs N years side by side).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lib.datasets.provenance import SYNTHETIC_MARKER, SYNTHETIC_PREFIX
from lib.run import progress

GENERATOR_VERSION = "2.0.0"
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
_STREAM_WORLD, _STREAM_WALK, _STREAM_YEAR, _STREAM_PAIR = 0, 1, 2, 3

# Model parameters (see the module docstring).
CAPABILITY_STEP_SD = 0.03
WALK_ANCHOR_YEAR = 2020  # capabilities and sizes equal the profile table's anchors this year
ANCHOR_NOISE_SD = 0.08  # a little noise around the published anchors: the world is synthetic
SIZE_CAPABILITY_CORR, SIZE_STEP_SD = 0.7, 0.04
LOGISTIC_SCALE = 0.3
# Year-to-year persistence: each pair's latent draws are sqrt(P) x a static draw + sqrt(1 - P)
# x a draw of the year, so a pair's status and value change little from one year to the next.
PRESENCE_PERSISTENCE, VALUE_PERSISTENCE = 0.93, 0.93
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
    "small": SizeSpec(tuple(range(2016, 2021)), 150, None, 450_000, "small"),
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


@dataclass(frozen=True)
class World:
    """Everything about a release that does not change from year to year."""

    seed: int
    spec: SizeSpec
    countries: tuple[Country, ...]
    all_countries: tuple[Country, ...]
    products: tuple[Product, ...]
    capability0: np.ndarray = field(repr=False)  # at WALK_ANCHOR_YEAR
    log_size0: np.ndarray = field(repr=False)
    requirement: np.ndarray = field(repr=False)
    log_product_size: np.ndarray = field(repr=False)
    log_unit_price: np.ndarray = field(repr=False)
    value_noise_sd: np.ndarray = field(repr=False)
    unspecified: np.ndarray = field(repr=False)
    chapter_index: np.ndarray = field(repr=False)  # product -> column of ``affinity``
    affinity: np.ndarray = field(repr=False)  # country x chapter, log scale, static
    specialisation: np.ndarray = field(repr=False)  # the known part of affinity (a table)

    @property
    def country_codes(self) -> np.ndarray:
        return np.array([c.code for c in self.countries], dtype=np.int32)

    @property
    def product_codes(self) -> list[str]:
        return [p.code for p in self.products]


def _product_attributes(
    products: Sequence[Product], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Requirement, size, unit price and value noise of each product (see the model)."""
    sections = {c.hs2: c.section_number for c in load_chapters()}
    chapters = [p.code[:2] for p in products]
    offset = np.array(
        [
            CHAPTER_SOPHISTICATION.get(ch, SECTION_SOPHISTICATION.get(sections.get(ch, 0), 0.0))
            for ch in chapters
        ]
    )
    unspecified = np.array([p.code in UNSPECIFIED_CODES for p in products])
    erratic = np.array([ch in ERRATIC_CHAPTERS for ch in chapters])
    n = len(products)
    requirement = REQUIREMENT_MEAN + SECTION_WEIGHT * offset + rng.normal(0, REQUIREMENT_SD, n)
    log_size = rng.normal(0, PRODUCT_SIZE_SD, n)
    log_price = (
        np.log(UNIT_PRICE_MEDIAN)
        + 0.8 * requirement
        + rng.normal(0, UNIT_PRICE_SD, n)
        + 4 * erratic
    )
    log_size[unspecified] -= 3.0
    chapter_index = np.unique(chapters, return_inverse=True)[1]
    return {
        "requirement": requirement,
        "log_product_size": log_size,
        "log_unit_price": log_price,
        "value_noise_sd": np.where(erratic, ERRATIC_VALUE_NOISE_SD, VALUE_NOISE_SD),
        "unspecified": unspecified,
        "chapter_index": chapter_index,
    }


def _specialisations(countries: Sequence[Country], chapters: Sequence[str]) -> np.ndarray:
    """Country x chapter log boosts of export values: the known main export sectors of the
    report's countries and of large commodity exporters (``lib/data/specialisations.csv``)."""
    row = {c.iso3: i for i, c in enumerate(countries)}
    column = {ch: j for j, ch in enumerate(chapters)}
    boost = np.zeros((len(countries), len(chapters)))
    for r in _data_rows("specialisations.csv"):
        if r["iso3"] in row and r["hs2"] in column:
            boost[row[r["iso3"]], column[r["hs2"]]] += float(r["log_boost"])
    return boost


def build_world(
    spec: SizeSpec, seed: int, product_codes: str | os.PathLike[str] | None = None
) -> World:
    """Draw the static latent world of a release (countries, products and their attributes).

    Capabilities and sizes are the profile table's anchors (plus a little noise) in
    ``WALK_ANCHOR_YEAR``.
    """
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    all_countries = load_countries()
    profiles = load_country_profiles()
    countries = _select_countries(all_countries, profiles, spec)
    catalogue = read_product_codes(product_codes) if product_codes else hs92_products()
    products = _select_products(catalogue, spec.n_products)
    rng = _rng(seed, _STREAM_WORLD)
    anchor = np.array([profiles[c.code].capability_anchor for c in countries])
    exports = np.array([profiles[c.code].goods_exports_usd_bn for c in countries])
    capability = anchor + rng.normal(0, ANCHOR_NOISE_SD, len(countries))
    log_size = np.log(np.maximum(exports, 1e-3)) + rng.normal(0, ANCHOR_NOISE_SD, len(countries))
    attributes = _product_attributes(products, rng)
    chapters = sorted({p.code[:2] for p in products})
    specialisation = _specialisations(countries, chapters)
    affinity = rng.normal(0, AFFINITY_SD, (len(countries), len(chapters))) + specialisation
    return World(
        seed=seed,
        spec=spec,
        countries=tuple(countries),
        all_countries=tuple(all_countries),
        products=tuple(products),
        capability0=capability,
        log_size0=log_size,
        affinity=affinity,
        specialisation=specialisation,
        **attributes,
    )


def _walk_offset(world: World, year: int, stream: int, sd: float) -> np.ndarray:
    """Cumulated yearly steps from WALK_ANCHOR_YEAR to ``year``; each step has its own seed."""
    n = len(world.countries)
    total = np.zeros(n)
    if year > WALK_ANCHOR_YEAR:
        for y in range(WALK_ANCHOR_YEAR + 1, year + 1):
            total += _rng(world.seed, _STREAM_WALK, stream, y).normal(0, sd, n)
    for y in range(year + 1, WALK_ANCHOR_YEAR + 1):
        total -= _rng(world.seed, _STREAM_WALK, stream, y).normal(0, sd, n)
    return total


def country_state(world: World, year: int) -> tuple[np.ndarray, np.ndarray]:
    """(capability, log economy size) of every country in ``year``.

    Size follows capability's walk (a country that gains capability grows) plus its own steps.
    """
    capability_step = _walk_offset(world, year, 0, CAPABILITY_STEP_SD)
    size_step = _walk_offset(world, year, 1, SIZE_STEP_SD)
    capability = world.capability0 + capability_step
    log_size = world.log_size0 + SIZE_CAPABILITY_CORR * capability_step + size_step
    return capability, log_size


def world_total(world: World, year: int) -> float:
    """World exports in thousands of current USD (~5.5 % nominal growth a year from 1995).

    Scaled by the release's flow budget relative to BACI's ~9 million flows a year, so that a
    typical flow has a BACI-like value at every size.
    """
    scale = world.spec.flows_per_year / FULL_FLOWS
    return WORLD_TOTAL_1995 * np.exp(WORLD_GROWTH * (year - 1995)) * scale


# --- one year of flows -----------------------------------------------------------------------


@dataclass(frozen=True)
class YearFlows:
    """One year's flows as arrays: indices into ``world.countries``/``world.products``.

    Values and quantities are integers in thousandths (exactly what is written, no float
    rounding surprises); ``q_na`` marks missing quantities.
    """

    year: int
    exporter: np.ndarray
    importer: np.ndarray
    product: np.ndarray
    v_milli: np.ndarray
    q_milli: np.ndarray
    q_na: np.ndarray

    def __len__(self) -> int:
        return len(self.exporter)


def _bisect(expected: Callable[[float], float], target: float, hi: float = 1.0) -> float:
    """The x >= 0 where the increasing function ``expected`` reaches ``target`` (60 halvings)."""
    while expected(hi) < target and hi < 1e12:
        hi *= 2
    lo = 0.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if expected(mid) < target else (lo, mid)
    return (lo + hi) / 2


def _persistent_normal(
    world: World, stream: int, persistence: float, rng: np.random.Generator
) -> np.ndarray:
    """Standard normal country x product draws, correlated ``persistence`` between years: a
    static draw (the same every year, its own seed) mixed with one of the year (``rng``)."""
    shape = (len(world.countries), len(world.products))
    static = _rng(world.seed, _STREAM_PAIR, stream).standard_normal(shape)
    return np.sqrt(persistence) * static + np.sqrt(1 - persistence) * rng.standard_normal(shape)


def _uniform(z: np.ndarray) -> np.ndarray:
    """~Uniform(0, 1) from standard normals: logistic(1.702 z) is within 0.01 of the normal
    CDF (no scipy at run time); only ranks matter, as draws are compared to probabilities."""
    return 1 / (1 + np.exp(-1.702 * z))


def _exported_pairs(
    world: World, capability: np.ndarray, log_size: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(exported, competitive) boolean country x product matrices for one year."""
    n_c, n_p = len(world.countries), len(world.products)
    # A known specialisation also makes a country competitive in its chapter's demanding
    # products (France in aircraft, Switzerland in watches).
    reach = (
        capability[:, None] + SPECIALISATION_REACH * world.specialisation[:, world.chapter_index]
    )
    gap = (reach - world.requirement[None, :]) / LOGISTIC_SCALE
    p_competitive = 1 / (1 + np.exp(-gap))
    # Even the weakest economy is competitive in a few of the least demanding products.
    easiest = np.argsort(np.where(world.unspecified, np.inf, world.requirement))
    p_competitive[:, easiest[: max(3, int(MIN_COMPETITIVE_SHARE * n_p))]] = EASIEST_PROBABILITY
    p_competitive[:, world.unspecified] = 0.0
    draw = _uniform(_persistent_normal(world, 0, PRESENCE_PERSISTENCE, rng))
    competitive = draw < p_competitive

    # Non-competitive exports fill the pair budget; large economies re-export more.
    budget = min(MAX_PAIR_DENSITY * n_c * n_p, world.spec.flows_per_year / MIN_MEAN_IMPORTERS)
    needed = max(0.0, budget - competitive.sum())
    z = (log_size - log_size.mean()) / (log_size.std() + 1e-12)
    tendency = np.exp(0.5 * z)
    open_cells = n_p - competitive.sum(axis=1)

    def expected(base: float) -> float:
        return float((open_cells * np.minimum(0.95, base * tendency)).sum())

    base = _bisect(expected, needed) if needed > 0 else 0.0
    p_other = np.broadcast_to(np.minimum(0.95, base * tendency)[:, None], (n_c, n_p)).copy()
    # BACI's unspecified codes: a few countries a year, whatever the budget.
    p_other[:, world.unspecified] = np.minimum(0.95, UNSPECIFIED_PROBABILITY * tendency)[:, None]
    draw = _uniform(_persistent_normal(world, 1, PRESENCE_PERSISTENCE, rng))
    other = (draw < p_other) & ~competitive
    return competitive | other, competitive


def _pair_values(
    world: World,
    year: int,
    log_size: np.ndarray,
    exported: np.ndarray,
    competitive: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Export value (thousand USD) of every exported pair, as a country x product matrix.

    Weights are product size x the country's chapter affinity x persistent log-normal noise. A
    non-competitive pair gets ``NONCOMPETITIVE_RELATIVE`` times the product's expected share of
    the country's exports (so its RCA is ~0.01: far below 1 but above 0); the competitive pairs
    share the rest of the country's total in proportion to their weights.
    """
    noise = _persistent_normal(world, 2, VALUE_PERSISTENCE, rng) * world.value_noise_sd[None, :]
    log_weight = world.log_product_size[None, :] + world.affinity[:, world.chapter_index]
    weight = np.exp(log_weight + noise)
    expected_sum = np.exp(log_weight + world.value_noise_sd[None, :] ** 2 / 2).sum(axis=1)
    other = np.where(
        exported & ~competitive, NONCOMPETITIVE_RELATIVE * weight / expected_sum[:, None], 0
    )
    comp = np.where(competitive, weight, 0.0)
    other_sum, comp_sum = other.sum(axis=1), comp.sum(axis=1)
    # A country with no competitive product (rare) spreads all its exports over the others.
    none = comp_sum == 0
    other[none] /= np.where(other_sum[none] > 0, other_sum[none], 1.0)[:, None]
    comp_scale = np.where(none, 0.0, np.clip(1 - other_sum, 0, 1) / np.where(none, 1.0, comp_sum))
    sizes = np.exp(log_size)
    country_total = world_total(world, year) * sizes / sizes.sum()
    return (comp * comp_scale[:, None] + other) * country_total[:, None]


def _importer_counts(
    value: np.ndarray, n_countries: int, target: int, rng: np.random.Generator
) -> np.ndarray:
    """1 + Poisson(lambda) distinct importers per pair, lambda ~ value^0.5 scaled to ``target``."""
    cap = n_countries - 1
    weight = (value / np.median(value)) ** PAIR_VALUE_POWER

    def expected(scale: float) -> float:
        return float(np.minimum(1 + scale * weight, cap).sum())

    scale = _bisect(expected, target) if target > len(value) else 0.0
    counts = 1 + rng.poisson(scale * weight)
    return np.minimum(counts, cap).astype(np.int64)


def _choose_importers(
    exporter: np.ndarray,
    counts: np.ndarray,
    importer_weight: np.ndarray,
    rng: np.random.Generator,
    chunk_cells: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct importers (never the exporter), weighted, without replacement, per pair.

    Exponential keys E_j / w_j: the k smallest are a weighted sample without replacement
    (Efraimidis-Spirakis). Pairs are processed in chunks so the key matrix stays ~16 MB.
    Returns (pair index of each flow, importer index of each flow).
    """
    n = len(importer_weight)
    inverse_weight = (1.0 / importer_weight).astype(np.float32)
    rows = max(1, chunk_cells // n)
    pair_parts, importer_parts = [], []
    for start in range(0, len(exporter), rows):
        stop = min(start + rows, len(exporter))
        keys = rng.standard_exponential((stop - start, n), dtype=np.float32) * inverse_weight
        keys[np.arange(stop - start), exporter[start:stop]] = np.inf
        order = np.argsort(keys, axis=1)
        take = np.arange(n)[None, :] < counts[start:stop, None]
        pair_parts.append(np.nonzero(take)[0] + start)
        importer_parts.append(order[take])
    return np.concatenate(pair_parts), np.concatenate(importer_parts)


def _split_values(
    pair_value: np.ndarray,
    pair_of_flow: np.ndarray,
    importer_size: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Each pair's value split over its importers: shares ~ size^0.5 x log-normal noise."""
    share = importer_size**SHARE_SIZE_POWER * rng.lognormal(0, SHARE_NOISE_SD, len(pair_of_flow))
    total = np.bincount(pair_of_flow, weights=share, minlength=len(pair_value))
    return pair_value[pair_of_flow] * share / total[pair_of_flow]


def _to_milli(x: np.ndarray) -> np.ndarray:
    """Thousandths as integers, at least 1: BACI never shows 0.000."""
    return np.maximum(np.rint(x * 1000), 1).astype(np.int64)


def simulate_year(world: World, year: int) -> YearFlows:
    """All flows of one year, sorted by exporter, importer and product (BACI's order)."""
    rng = _rng(world.seed, _STREAM_YEAR, year)
    capability, log_size = country_state(world, year)
    exported, competitive = _exported_pairs(world, capability, log_size, rng)
    values = _pair_values(world, year, log_size, exported, competitive, rng)
    exporter, product = np.nonzero(exported)
    pair_value = values[exporter, product]
    del exported, competitive, values

    counts = _importer_counts(pair_value, len(world.countries), world.spec.flows_per_year, rng)
    size = np.exp(log_size)
    pair_of_flow, importer = _choose_importers(exporter, counts, size**IMPORTER_SIZE_POWER, rng)
    value = _split_values(pair_value, pair_of_flow, size[importer], rng)
    flow_product = product[pair_of_flow]
    price = np.exp(world.log_unit_price[flow_product] + rng.normal(0, PRICE_NOISE_SD, len(value)))
    q_na = rng.random(len(value)) < NA_SHARE
    flow_exporter = exporter[pair_of_flow]

    n_c, n_p = len(world.countries), len(world.products)
    order = np.argsort((flow_exporter * n_c + importer) * n_p + flow_product, kind="stable")
    return YearFlows(
        year=year,
        exporter=flow_exporter[order].astype(np.int32),
        importer=importer[order].astype(np.int32),
        product=flow_product[order].astype(np.int32),
        v_milli=_to_milli(value[order]),
        q_milli=_to_milli((value / price)[order]),
        q_na=q_na[order],
    )


# --- writing ---------------------------------------------------------------------------------


def flow_file_name(year: int) -> str:
    return f"BACI_HS{HS_REVISION}_Y{year}_{RELEASE}.csv"


def _format_milli(milli: np.ndarray) -> pa.Array:
    """Integers in thousandths -> exact ``"123.045"`` strings (vectorised with Arrow)."""
    whole = pc.cast(pa.array(milli // 1000), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(milli % 1000), pa.string()), width=3, padding="0")
    return pc.binary_join_element_wise(whole, fraction, ".")


def format_flows(world: World, flows: YearFlows) -> pa.Table:
    """The year's flows as BACI's text columns (``q`` padded to ``Q_WIDTH``, ``NA`` missing)."""
    codes = pa.array(world.product_codes, pa.string())
    country_codes = pa.array(world.country_codes)
    quantity = pc.if_else(pa.array(flows.q_na), "NA", _format_milli(flows.q_milli))
    return pa.table(
        {
            "t": pa.repeat(pa.scalar(flows.year, pa.int16()), len(flows)),
            "i": pc.take(country_codes, pa.array(flows.exporter)),
            "j": pc.take(country_codes, pa.array(flows.importer)),
            "k": pc.take(codes, pa.array(flows.product)),
            "v": _format_milli(flows.v_milli),
            "q": pc.utf8_lpad(quantity, width=Q_WIDTH, padding=" "),
        }
    )


def write_flow_file(world: World, year: int, out_dir: Path) -> tuple[int, float]:
    """Simulate and write one year; returns (number of flows, seconds). Atomic via rename."""
    start = time.perf_counter()
    flows = simulate_year(world, year)
    table = format_flows(world, flows)
    path = out_dir / flow_file_name(year)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        handle.write(b"t,i,j,k,v,q\n")
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        pacsv.write_csv(table, handle, options)
    partial.replace(path)
    return len(flows), time.perf_counter() - start


def _write_text_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """UTF-8, LF, fields quoted only when needed (as CEPII's companion files)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_country_codes(world: World, out_dir: Path) -> Path:
    path = out_dir / f"country_codes_{RELEASE}.csv"
    rows = ((c.code, c.name, c.iso2, c.iso3) for c in world.all_countries)
    _write_text_csv(path, ("country_code", "country_name", "country_iso2", "country_iso3"), rows)
    return path


def write_product_codes(world: World, out_dir: Path) -> Path:
    path = out_dir / f"product_codes_HS{HS_REVISION}_{RELEASE}.csv"
    rows = ((p.code, p.description) for p in world.products)
    _write_text_csv(path, ("code", "description"), rows)
    return path


def write_latent_truth(world: World, years: Sequence[int], out_dir: Path) -> None:
    """Latent capabilities by year and product requirements (not BACI; for tests)."""
    rows = []
    for year in years:
        capability, _ = country_state(world, year)
        rows.extend(
            (year, c.code, f"{a:.6f}") for c, a in zip(world.countries, capability, strict=True)
        )
    _write_text_csv(out_dir / "latent_truth.csv", ("year", "country_code", "capability"), rows)
    products = (
        (p.code, f"{r:.6f}") for p, r in zip(world.products, world.requirement, strict=True)
    )
    _write_text_csv(out_dir / "latent_products.csv", ("product", "requirement"), products)


def world_key(world: World) -> str:
    """Everything a year's flows depend on besides the year: one folder must not mix two."""
    digest = hashlib.sha256("\n".join(world.product_codes).encode("utf-8")).hexdigest()[:12]
    return (
        f"generator={GENERATOR_VERSION} seed={world.seed} countries={len(world.countries)} "
        f"products={len(world.products)}:{digest} flows_per_year={world.spec.flows_per_year}"
    )


def _recorded_world_key(out_dir: Path) -> str | None:
    readme = out_dir / SYNTHETIC_MARKER
    if not readme.is_file():
        return None
    for line in readme.read_text(encoding="utf-8").splitlines():
        if line.startswith(WORLD_KEY_PREFIX):
            return line[len(WORLD_KEY_PREFIX) :].strip("`")
    return None


def _years_in_folder(out_dir: Path) -> set[int]:
    pattern = re.compile(rf"^BACI_HS{HS_REVISION}_Y(\d{{4}})_{RELEASE}\.csv$")
    return {int(m.group(1)) for p in out_dir.iterdir() if (m := pattern.match(p.name))}


def _count_rows(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b"")) - 1


def _write_readme(world: World, counts: dict[int, int], out_dir: Path) -> None:
    spec, years = world.spec, sorted(counts)
    flows = ", ".join(f"{y}: {counts[y]:,}" for y in years) or "(generation in progress)"
    span = f"{years[0]}-{years[-1]} ({len(years)})" if years else "(generation in progress)"
    lines = [
        "# SYNTHETIC BACI release (not real trade data)",
        "",
        "Generated by `lib/datasets/synthetic.py` of ecomplexity-spark in CEPII BACI's layout "
        f"(`BACI_HS{HS_REVISION}_Y*_{RELEASE}.csv`; {RELEASE} is not a CEPII release). The "
        "flows come from a latent capability model calibrated to public figures (see the "
        "module docstring): countries and HS92 products are real, their trade is invented. "
        "Illustrative only: do not use for any economic conclusion.",
        "",
        f"- generator version: {GENERATOR_VERSION}",
        f"- seed: {world.seed}",
        f"- size: {spec.name} ({len(world.countries)} countries, {len(world.products)} products, "
        f"target {spec.flows_per_year:,} flows per year)",
        f"- years: {span}",
        f"- flows per year: {flows}",
        "- not part of BACI: latent_truth.csv (year, country_code, capability), "
        "latent_products.csv (product, requirement), this file",
        f"{WORLD_KEY_PREFIX}`{world_key(world)}`",
        "",
    ]
    (out_dir / SYNTHETIC_MARKER).write_text("\n".join(lines), encoding="utf-8")


def _year_task(args: tuple[World, int, str]) -> tuple[int, int, float]:
    world, year, out_dir = args
    n_flows, seconds = write_flow_file(world, year, Path(out_dir))
    return year, n_flows, seconds


def generate_release(
    out_dir: str | os.PathLike[str],
    size: str | SizeSpec = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
    years: Iterable[int] | None = None,
    product_codes: str | os.PathLike[str] | None = None,
    workers: int = 1,
    progress: Callable[[int, int, float], None] | None = None,
) -> Path:
    """Write a synthetic BACI release into ``out_dir`` and return its path.

    ``years`` overrides the size's years (each year is identical whichever others are made);
    ``product_codes`` is a real BACI product list to use instead of the synthetic catalogue;
    ``workers > 1`` makes years in parallel processes (each holds one year in memory);
    ``progress(year, n_flows, seconds)`` is called as each year is written.

    Flow files of other years already in ``out_dir`` are kept if they come from the same seed
    and size (SYNTHETIC.md and latent_truth.csv then cover all of them); otherwise the call
    refuses, so a folder never mixes two releases.
    """
    spec = resolve_size(size)
    year_list = sorted(set(years)) if years is not None else list(spec.years)
    if years is not None:
        spec = dataclasses.replace(spec, years=tuple(year_list))
    world = build_world(spec, seed, product_codes)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kept_years = _years_in_folder(out) - set(year_list)
    if kept_years and _recorded_world_key(out) != world_key(world):
        raise ValueError(
            f"{out} already holds BACI flow files for {sorted(kept_years)} that are not from "
            "this seed and size; write into an empty folder (a year can be regenerated into "
            "an existing release only with the same seed and size)"
        )
    counts = {year: _count_rows(out / flow_file_name(year)) for year in kept_years}
    _write_readme(world, counts, out)  # records the world key before any year is written
    write_country_codes(world, out)
    write_product_codes(world, out)
    for year, n_flows, seconds in _run_years(world, year_list, out, workers):
        counts[year] = n_flows
        if progress is not None:
            progress(year, n_flows, seconds)
    write_latent_truth(world, sorted(counts), out)
    _write_readme(world, counts, out)
    return out


def _run_years(
    world: World, years: Sequence[int], out: Path, workers: int
) -> Iterator[tuple[int, int, float]]:
    tasks = [(world, year, str(out)) for year in years]
    if workers <= 1 or len(years) == 1:
        yield from map(_year_task, tasks)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(years))) as pool:
        yield from pool.map(_year_task, tasks)


# --- the embedded default release ------------------------------------------------------------


def _generated_root() -> Path:
    """``data/generated`` of the project (or $ECX_GENERATED_DIR).

    When ``lib`` is not in the project folder (imported from the zip spark-submit ships with
    --py-files, or installed), the current directory, which spark-submit.sh sets to the root.
    """
    override = os.environ.get("ECX_GENERATED_DIR")
    if override:
        return Path(override)
    project = Path(__file__).resolve().parents[2]
    root = project if (project / "pyproject.toml").is_file() else Path.cwd()
    return root / "data" / "generated"


def default_release_path() -> Path:
    return _generated_root() / "default"


def release_key(size: str | SizeSpec = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> str:
    """What a generated release depends on: version, seed, size, and a digest of the generator's
    source and data tables, so that any change to them regenerates the default release."""
    digest = hashlib.sha256()
    loader = globals().get("__loader__")
    if loader is not None and hasattr(loader, "get_data"):
        digest.update(loader.get_data(__file__))
    for name in (
        "hs_chapters.csv",
        "baci_countries.csv",
        "country_profiles.csv",
        "hs92_products.csv",
        "specialisations.csv",
    ):
        digest.update(_data_text(name).encode("utf-8"))
    spec = resolve_size(size)
    return (
        f"generator={GENERATOR_VERSION} seed={seed} size={spec!r} source={digest.hexdigest()[:16]}"
    )


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """An advisory file lock, so concurrent first uses generate the release only once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            import fcntl
        except ImportError:  # not POSIX: no locking
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _is_current(path: Path, key: str) -> bool:
    key_file = path / KEY_FILE
    return key_file.is_file() and key_file.read_text(encoding="utf-8") == key


def ensure_default_release(
    path: str | os.PathLike[str] | None = None,
    size: str | SizeSpec = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
) -> Path:
    """The default synthetic release, generated on first use (~15 s) and reused after.

    It is regenerated when the generator (version, source, data tables), the seed or the size
    changes. Generation goes to a temporary folder renamed at the end, so an interrupted run
    never leaves a half release behind.
    """
    target = Path(path) if path is not None else default_release_path()
    key = release_key(size, seed)
    if _is_current(target, key):
        return target
    with _exclusive_lock(target.parent / f".{target.name}.lock"):
        if _is_current(target, key):
            return target
        for stale in target.parent.glob(f".{target.name}.tmp-*"):  # left by killed runs
            shutil.rmtree(stale, ignore_errors=True)
        staging = target.parent / f".{target.name}.tmp-{os.getpid()}"
        n_years = len(resolve_size(size).years)
        what = f"generating the synthetic release ({n_years} years) into {target}"
        with progress.stage("default data", total=n_years, unit="year", detail=what) as stage:
            generate_release(
                staging,
                size=size,
                seed=seed,
                progress=lambda year, flows, _: stage.advance(1, f"{year}: {flows:,} flows"),
            )
        (staging / KEY_FILE).write_text(key, encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target
