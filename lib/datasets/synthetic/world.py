"""The latent world of a release: product attributes (sizes fitted to world exports by chapter), country capabilities and specialisations, and their yearly state (random walks anchored to the profiles).

Pure numpy from a seed; writes nothing. Must not draw the pairs' static draws differently from
``lib.datasets.synthetic.flows`` (the chapter fit conditions on them).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lib.datasets.synthetic.catalogue import (
    _STREAM_PAIR,
    _STREAM_WALK,
    _STREAM_WORLD,
    AFFINITY_SD,
    ANCHOR_NOISE_SD,
    CAPABILITY_STEP_SD,
    CHAPTER_FIT_ROUNDS,
    CHAPTER_SOPHISTICATION,
    EASIEST_PROBABILITY,
    ERRATIC_CHAPTERS,
    ERRATIC_VALUE_NOISE_SD,
    FULL_FLOWS,
    LOGISTIC_SCALE,
    MIN_COMPETITIVE_SHARE,
    PRESENCE_PERSISTENCE,
    PRODUCT_SIZE_SD,
    REQUIREMENT_MEAN,
    REQUIREMENT_SD,
    SECTION_SOPHISTICATION,
    SECTION_WEIGHT,
    SIZE_CAPABILITY_CORR,
    SIZE_STEP_SD,
    SPECIALISATION_REACH,
    UNIT_PRICE_MEDIAN,
    UNIT_PRICE_SD,
    UNSPECIFIED_CODES,
    VALUE_NOISE_SD,
    VALUE_PERSISTENCE,
    WALK_ANCHOR_YEAR,
    WORLD_GROWTH,
    WORLD_TOTAL_1995,
    Country,
    Product,
    SizeSpec,
    _data_rows,
    _rng,
    _select_countries,
    _select_products,
    hs92_products,
    load_chapter_world_exports,
    load_chapters,
    load_countries,
    load_country_profiles,
    read_product_codes,
)


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


def competitive_probability(
    capability: np.ndarray,
    specialisation: np.ndarray,
    requirement: np.ndarray,
    chapter_index: np.ndarray,
    unspecified: np.ndarray,
) -> np.ndarray:
    """Country x product probability of exporting competitively: logistic of capability (plus
    ``SPECIALISATION_REACH`` x the chapter's known boost) minus requirement; every country is
    likely competitive in the few least demanding products, never in the unspecified codes."""
    n_p = len(requirement)
    # A known specialisation also makes a country competitive in its chapter's demanding
    # products (France in aircraft, Switzerland in watches).
    reach = capability[:, None] + SPECIALISATION_REACH * specialisation[:, chapter_index]
    p = 1 / (1 + np.exp(-(reach - requirement[None, :]) / LOGISTIC_SCALE))
    easiest = np.argsort(np.where(unspecified, np.inf, requirement))
    p[:, easiest[: max(3, int(MIN_COMPETITIVE_SHARE * n_p))]] = EASIEST_PROBABILITY
    p[:, unspecified] = 0.0
    return p


def _expected_pair_weights(
    seed: int,
    p_competitive: np.ndarray,
    affinity: np.ndarray,
    chapter_index: np.ndarray,
    value_noise_sd: np.ndarray,
) -> np.ndarray:
    """Country x product expected export weight, before product size, given the pairs' STATIC
    draws (the part of their presence and value draws that is the same every year, as in
    ``lib.datasets.synthetic.flows``): P(competitive | static) x E[exp(affinity + noise) |
    static]. Conditioning on the static draws makes the chapter fit hold for the realised world
    in every year, not only on average over worlds."""
    shape = p_competitive.shape
    presence = _rng(seed, _STREAM_PAIR, 0).standard_normal(shape)
    value = _rng(seed, _STREAM_PAIR, 2).standard_normal(shape)
    # competitive <=> logistic(1.702 z) < p, z = sqrt(P) static + sqrt(1 - P) yearly normal
    p = np.clip(p_competitive, 1e-12, 1 - 1e-12)
    threshold = np.log(p / (1 - p)) / 1.702
    a, v = PRESENCE_PERSISTENCE, VALUE_PERSISTENCE
    z = (threshold - np.sqrt(a) * presence) / np.sqrt(1 - a)
    p_given = np.where(p_competitive > 0, 1 / (1 + np.exp(-1.702 * z)), 0.0)
    sd = value_noise_sd[None, :]
    log_value = affinity[:, chapter_index] + sd * np.sqrt(v) * value + sd**2 * (1 - v) / 2
    return p_given * np.exp(log_value)


def _calibrate_chapter_sizes(
    log_size: np.ndarray,
    chapters: np.ndarray,
    base: np.ndarray,
    country_exports: np.ndarray,
) -> np.ndarray:
    """Shift each chapter's product sizes until the chapter's expected share of world exports in
    the anchor year (countries' exports split over their products by ``base`` x size, see
    ``_expected_pair_weights``) is its share in ``lib/data/chapter_world_exports.csv``:
    machinery, electronics, fuels and vehicles are large, silk and cork small, whatever the
    number of HS6 codes of the chapter or who is competitive in it. Iterative proportional
    fitting (at most ``CHAPTER_FIT_ROUNDS`` rounds); chapters the table lacks (BACI's 99) keep
    their draws; the sizes' mean is kept."""
    world = load_chapter_world_exports()
    listed = np.isin(chapters, list(world))
    codes, column = np.unique(chapters, return_inverse=True)
    target = np.array([world.get(ch, 0.0) for ch in codes])
    fitted = np.isin(codes, list(world))
    out = log_size.copy()
    for _ in range(CHAPTER_FIT_ROUNDS):
        weight = base * np.exp(out)[None, :]
        split = weight * (country_exports / weight.sum(axis=1))[:, None]
        got = np.bincount(column, weights=split.sum(axis=0), minlength=len(codes))
        share_got = got[fitted] / got[fitted].sum()
        share_target = target[fitted] / target[fitted].sum()
        step = np.zeros(len(codes))
        step[fitted] = np.log(share_target / share_got)
        if np.abs(step).max() < 1e-4:
            break
        out[listed] += step[column][listed]
    return out - (out.mean() - log_size.mean())


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
    p_competitive = competitive_probability(
        capability,
        specialisation,
        attributes["requirement"],
        attributes["chapter_index"],
        attributes["unspecified"],
    )
    # A sampled catalogue (``tiny``) keeps its drawn sizes: a chapter of one or two sampled
    # products would otherwise carry its whole world share.
    if spec.n_products is None or spec.n_products >= len(catalogue):
        base = _expected_pair_weights(
            seed, p_competitive, affinity, attributes["chapter_index"], attributes["value_noise_sd"]
        )
        attributes["log_product_size"] = _calibrate_chapter_sizes(
            attributes["log_product_size"],
            np.array([p.code[:2] for p in products]),
            base,
            np.exp(log_size),
        )
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
