"""One year of flows: which country-product pairs are exported, their values, the importers and the split of values between them.

Pure numpy from the world and the year; formats and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lib.datasets.synthetic.catalogue import (
    _STREAM_PAIR,
    _STREAM_YEAR,
    IMPORTER_SIZE_POWER,
    MAX_PAIR_DENSITY,
    MIN_MEAN_IMPORTERS,
    NA_SHARE,
    NONCOMPETITIVE_RELATIVE,
    PAIR_VALUE_POWER,
    PRESENCE_PERSISTENCE,
    PRICE_NOISE_SD,
    SHARE_NOISE_SD,
    SHARE_SIZE_POWER,
    UNSPECIFIED_PROBABILITY,
    VALUE_PERSISTENCE,
    _rng,
)
from lib.datasets.synthetic.world import World, competitive_probability, country_state, world_total

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
    p_competitive = competitive_probability(
        capability, world.specialisation, world.requirement, world.chapter_index, world.unspecified
    )
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
