"""A SYNTHETIC tall place x activity table (many places, ~1,000 activities) for scale tests.

The shape of firm-level customs data, County Business Patterns or job postings by city x skill:
e.g. 200,000 places x 1,000 activities, ~2 % of the cells nonzero, over a few years, written as
Parquet in the long layout ``--source`` reads (``lib.io.place_activity``: place, activity,
year, value) so that ``jobs/fitness.py --source DIR`` runs on it. Not anyone's data: every
number comes from the model below, the folder holds a ``_SYNTHETIC.md`` note and the run labels
its outputs synthetic (``lib.datasets.provenance.marked_synthetic``).

Model (deterministic from the seed; each block of ``block_places(activities)`` places drawn
from its own ``SeedSequence(seed, spawn_key=(stream, block[, year]))``, so a place's rows
depend neither on how many places are asked for nor on the other years):

1. Place p has a latent *capability* ``a_p ~ N(0, 1)`` (plus ``N(0, 0.05)`` of the year) and
   holds ``k_p = density x activities x exp(a_p - 1/2)`` activities (rounded, at least 1: the
   mean is the density asked for; diversification is log-normal, right-skewed). Activity a
   has a *requirement* ``r_a ~ N(0, 1)``; p holds its ``k_p`` best activities by the score
   ``0.8 z_pa - r_a``. One common order of the activities drives every place, so the matrix is
   nested (a capable place holds the activities of the less capable ones, and more) and
   Fitness is meaningful; every place appears every year.
2. The draws persist: ``z_pa = sqrt(0.9) x`` a static normal of the pair ``+ sqrt(0.1) x`` one
   of the year, so a pair's status rarely flips between years.
3. Values are log-normal: the place's size (``exp(0.8 a_p + N(0, 1))`` x 1,000) is split over
   the activities it holds in proportion to the activity's log-normal size (sd 1) x persistent
   log-normal noise (sd 1).

Memory is bounded whatever the size: one block (~1 million cells) is drawn at a time and its
nonzero rows are appended to one Parquet file per year (row groups of ~1 million rows).

    python -m lib.datasets.synthetic.tall --places 100000 --activities 1000 --density 0.02 \\
        --years 2019-2020 --out data/tall

Must not hold the whole table in memory, nor draw random numbers outside ``_rng``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lib.datasets.provenance import TABLE_MARKER
from lib.datasets.synthetic.catalogue import _rng

TALL_VERSION = "1.0.0"
DEFAULT_SEED = 2026
DIVERSITY_SD = 1.0  # log-normal spread of the number of activities a place holds
SCORE_NOISE_SD = 0.8  # how far a place's order of activities strays from the common one
CAPABILITY_YEAR_SD = 0.05
PERSISTENCE = 0.9
PLACE_SIZE_CAPABILITY, PLACE_SIZE_SD, PLACE_SIZE_MEDIAN = 0.8, 1.0, 1000.0
ACTIVITY_SIZE_SD, VALUE_NOISE_SD = 1.0, 1.0
BLOCK_CELLS = 1_000_000  # cells drawn at a time (a place block x all activities)
ROW_GROUP_ROWS = 1_000_000

# Random streams (first element of the spawn key).
_STREAM_PLACE, _STREAM_ACTIVITY, _STREAM_PAIR, _STREAM_YEAR = 10, 11, 12, 13

SCHEMA = pa.schema(
    [
        pa.field("place", pa.string(), False),
        pa.field("activity", pa.string(), False),
        pa.field("year", pa.int32(), False),
        pa.field("value", pa.float64(), False),
    ]
)


@dataclass(frozen=True)
class TallSpec:
    """What to generate: ``places`` x ``activities`` with ~``density`` of the cells nonzero in
    each of ``years``."""

    places: int
    activities: int
    density: float
    years: tuple[int, ...]
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        if self.places < 1 or self.activities < 1:
            raise ValueError("places and activities must be at least 1")
        if not 0 < self.density < 1:
            raise ValueError(f"density must be in (0, 1), not {self.density}")
        if not self.years:
            raise ValueError("at least one year")


def place_code(index: np.ndarray | int) -> np.ndarray:
    """``P0000001``... for place indices 0, 1, ... (fixed width: codes do not depend on the
    number of places)."""
    return np.char.add("P", np.char.zfill((np.asarray(index) + 1).astype(str), 7))


def activity_codes(activities: int) -> np.ndarray:
    return np.char.add("A", np.char.zfill(np.arange(1, activities + 1).astype(str), 5))


def block_places(activities: int) -> int:
    """Places per block (of the draws and of the memory)."""
    return max(1, BLOCK_CELLS // activities)


def capability(spec: TallSpec, start: int, stop: int) -> np.ndarray:
    """Static latent capability of places ``start..stop-1`` (one block at a time)."""
    step = block_places(spec.activities)
    parts = []
    for block in range(start // step, (stop - 1) // step + 1):
        first = block * step
        a = _rng(spec.seed, _STREAM_PLACE, block).standard_normal((2, step))
        lo, hi = max(start, first) - first, min(stop, first + step) - first
        parts.append(a[0, lo:hi])
    return np.concatenate(parts)


def _activity_draws(spec: TallSpec) -> tuple[np.ndarray, np.ndarray]:
    """(requirement, log size) of every activity."""
    rng = _rng(spec.seed, _STREAM_ACTIVITY)
    requirement = rng.standard_normal(spec.activities)
    log_size = ACTIVITY_SIZE_SD * rng.standard_normal(spec.activities)
    return requirement, log_size


def _block_years(
    spec: TallSpec, block: int, requirement: np.ndarray, activity_log_size: np.ndarray
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """For each year: (year, place index, activity index, value) of the block's nonzero cells."""
    step = block_places(spec.activities)
    first, stop = block * step, min(spec.places, (block + 1) * step)
    n = stop - first
    place_draws = _rng(spec.seed, _STREAM_PLACE, block).standard_normal((2, step))[:, :n]
    a, size_noise = place_draws
    log_place_size = (
        np.log(PLACE_SIZE_MEDIAN) + PLACE_SIZE_CAPABILITY * a + PLACE_SIZE_SD * size_noise
    )
    static = _rng(spec.seed, _STREAM_PAIR, block).standard_normal((2, step, spec.activities))
    static_presence, static_value = static[0, :n], static[1, :n]
    keep, mix = np.sqrt(PERSISTENCE), np.sqrt(1 - PERSISTENCE)
    mean_held = spec.density * spec.activities
    for year in spec.years:
        rng = _rng(spec.seed, _STREAM_YEAR, block, year)
        a_year = a + CAPABILITY_YEAR_SD * rng.standard_normal(step)[:n]
        held = np.rint(mean_held * np.exp(DIVERSITY_SD * a_year - DIVERSITY_SD**2 / 2))
        held = np.clip(held, 1, spec.activities).astype(np.int64)
        z = keep * static_presence + mix * rng.standard_normal((step, spec.activities))[:n]
        score = SCORE_NOISE_SD * z - requirement[None, :]
        del z
        top = np.argsort(-score, axis=1, kind="stable")[:, : held.max()]
        del score
        chosen = np.arange(top.shape[1])[None, :] < held[:, None]
        rows = np.repeat(np.arange(n), held)
        cols = top[chosen]
        del top, chosen
        noise = keep * static_value[rows, cols] + mix * rng.standard_normal(len(rows))
        weight = np.exp(activity_log_size[cols] + VALUE_NOISE_SD * noise)
        total = np.bincount(rows, weights=weight, minlength=n)
        value = np.exp(log_place_size[rows]) * weight / total[rows]
        yield year, first + rows, cols, value


def _arrow(
    year: int, places: np.ndarray, activities: np.ndarray, value: np.ndarray, codes: pa.Array
) -> pa.Table:
    return pa.Table.from_arrays(
        [
            pa.array(place_code(places)),
            pa.DictionaryArray.from_arrays(pa.array(activities, pa.int32()), codes).cast(
                pa.string()
            ),
            pa.array(np.full(len(places), year, np.int32)),
            pa.array(value),
        ],
        schema=SCHEMA,
    )


def generate_tall(spec: TallSpec, out: Path) -> dict:
    """Write ``out/tall_{year}.parquet`` (one per year, rows sorted by place) and the
    ``_SYNTHETIC.md`` note; return the counts (rows per year, seconds)."""
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("tall_*.parquet"):
        old.unlink()
    requirement, activity_log_size = _activity_draws(spec)
    codes = pa.array(activity_codes(spec.activities))
    writers = {y: pq.ParquetWriter(out / f"tall_{y}.parquet", SCHEMA) for y in spec.years}
    pending: dict[int, list[pa.Table]] = {y: [] for y in spec.years}
    rows = dict.fromkeys(spec.years, 0)

    def flush(year: int) -> None:
        if pending[year]:
            writers[year].write_table(pa.concat_tables(pending[year]))
            pending[year] = []

    try:
        step = block_places(spec.activities)
        for block in range(-(-spec.places // step)):
            for year, p, a, v in _block_years(spec, block, requirement, activity_log_size):
                pending[year].append(_arrow(year, p, a, v, codes))
                rows[year] += len(p)
                if sum(t.num_rows for t in pending[year]) >= ROW_GROUP_ROWS:
                    flush(year)
        for year in spec.years:
            flush(year)
    finally:
        for writer in writers.values():
            writer.close()
    counts = {"rows": rows, "seconds": round(time.perf_counter() - start, 1)}
    _write_note(spec, out, counts)
    return counts


def _write_note(spec: TallSpec, out: Path, counts: dict) -> None:
    cells = spec.places * spec.activities
    lines = [
        "# SYNTHETIC place x activity table",
        "",
        "Generated by lib/datasets/synthetic/tall.py: every number is made up (a nested",
        "capability model with log-normal values); these are no one's statistics.",
        "",
        f"- generator version: {TALL_VERSION}",
        f"- spec: {json.dumps(asdict(spec))}",
        "- rows per year (share of cells nonzero): "
        + ", ".join(f"{y}: {n} ({n / cells:.4f})" for y, n in counts["rows"].items()),
        "",
    ]
    (out / TABLE_MARKER).write_text("\n".join(lines), encoding="utf-8")


def parse_years(text: str) -> tuple[int, ...]:
    """``2019-2020`` or ``2019,2021``."""
    years: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        years.extend(range(int(lo), int(hi or lo) + 1))
    return tuple(sorted(set(years)))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m lib.datasets.synthetic.tall",
        description="Write a SYNTHETIC tall place x activity table (Parquet, for --source).",
    )
    parser.add_argument("--places", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=1_000)
    parser.add_argument("--density", type=float, default=0.02, help="share of cells nonzero")
    parser.add_argument("--years", default="2019-2020", help="2019-2020 or 2019,2021")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", required=True, help="folder to write (tall_YEAR.parquet)")
    args = parser.parse_args(argv)
    spec = TallSpec(args.places, args.activities, args.density, parse_years(args.years), args.seed)
    counts = generate_tall(spec, Path(args.out))
    print(f"Wrote SYNTHETIC {spec.places} x {spec.activities} table to {args.out}: {counts}")


if __name__ == "__main__":
    main()
