"""Proximity, density, COI and COG of years too large for one task: the product space blockwise.

Inputs: the nonzeros of M, ``year, place (long), activity (string), mcp (double)`` (rows with
mcp > 0 are M's ones, others are ignored: ``lib.execution.distributed.presence``), and PCI,
``year, activity, pci`` (NULL / absent: outside ECI's component). Every formula is a numpy
kernel of ``lib.measures.product_space`` (the in-task path is the same kernels on one block);
steps 1-3 are in ``lib.execution.distributed.cooccurrence``:

1. ``activity_index``: per year the active activities (at least one place), numbered 0..P-1
   in code order, with their ubiquity (the number of places with M = 1);
2. ``indexed_ones``: M's ones with that index and a *block* of places,
   ``pmod(xxhash64(place), blocks)``, blocks = ceil(places x P / ``block_cells``);
3. ``cooccurrence_rows``: C = M^T M, one partial P x P per task and year (``cooccurrence`` of
   dense place rows), summed per activity row: one row per (year, activity) holding C's row;
4. ``proximity_pairs``: the product_proximity rows, per year from C (both orders, no diagonal);
5. ``outlook``: C's rows (and PCI) sent to every block of the year (a join on the block
   numbers: Spark Connect has no broadcast variables), the block's ones beside them in a
   cogroup; each block rebuilds phi and the ``activity_side`` and runs ``block_outlook``;
   ``density_cells`` and ``place_coi`` (z-score from ``coi_moments`` per block, combined) split
   its rows. Compute it once (persist, or write it) when both are needed.

Limits (a Python task under 0.8 GiB): phi is dense P x P float64 in every block task, with its
C rows (Arrow input, numpy copy) and the activity side: about a dozen P x P copies at the peak
(measured), so P <= ``MAX_ACTIVITIES`` = 2,000 (0.48 GiB measured); a year
with more activities fails with an error naming it (its proximity would need sparse pairs,
not implemented). Places are unbounded: a block holds ~``block_cells`` cells (default 2 million:
~100 MB of output rows), and the number of blocks grows with the places.

Must not: collect rows on the driver, use RDDs or the SparkContext (Spark Connect), or hold a
formula of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lib.execution.distributed.cooccurrence import (
    BLOCK_CELLS,
    CHUNK_CELLS,
    activity_index,
    block_numbers,
    check_activities,
    cooccurrence_rows,
    dense_rows,
    indexed_ones,
    rows_of,
)
from lib.measures.product_space import (
    PROXIMITY_SCHEMA,
    Proximity,
    activity_side,
    block_outlook,
    coi_moments,
    coi_scale,
    combined_moments,
    proximity_pair_blocks,
    selected_cells,
    standardised,
)
from lib.measures.yearly import YearSettings

OUTLOOK_SCHEMA = (
    "year int, block int, place long, activity string, mcp double, density double, cog double, "
    "coi_raw double, known int"
)
MOMENTS_SCHEMA = "year int, n long, total double, squares double, known int"
SCALE_SCHEMA = "year int, mean double, sd double"
COI_SCHEMA = "year int, place long, coi double"


# --- proximity pairs -------------------------------------------------------------------------


def _sorted_side(table: pa.Table) -> tuple[int, np.ndarray, pa.Array, pa.Table]:
    """A year's C rows (any order) as (year, C in activity order, codes, the rows sorted)."""
    table = table.sort_by("a")
    year = int(table.column("year")[0].as_py())
    P = table.num_rows
    check_activities(year, P)
    C = rows_of(table.column("c"), P).copy()  # writable: phi is made in place
    return year, C, table.column("activity").combine_chunks(), table


def _pair_batches(table: pa.Table, min_proximity: float) -> Iterator[pa.RecordBatch]:
    year, C, codes, _ = _sorted_side(table)
    proximity = Proximity.of_cooccurrence(C)
    for a, b, values in proximity_pair_blocks(proximity, min_proximity, upper_only=False):
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(np.full(a.size, year, np.int32)),
                codes.take(pa.array(a)),
                codes.take(pa.array(b)),
                pa.array(values, pa.float64()),
            ],
            schema=pa.schema([(f.name, f.type) for f in _PROXIMITY_ARROW]),
        )


_PROXIMITY_ARROW = [
    pa.field("year", pa.int32()),
    pa.field("product_a", pa.string()),
    pa.field("product_b", pa.string()),
    pa.field("proximity", pa.float64()),
]


def proximity_pairs(cooc: DataFrame, min_proximity: float = 0.0) -> DataFrame:
    """product_proximity rows (year, product_a, product_b, proximity: both orders, non-zero,
    at least ``min_proximity``, never the diagonal) from ``cooccurrence_rows``: one task a
    year (its P x P phi, written in blocks of consecutive product_a)."""

    def pairs(table: pa.Table) -> pa.Table:
        batches = list(_pair_batches(table, min_proximity))
        if not batches:
            return pa.Table.from_batches([], pa.schema(_PROXIMITY_ARROW))
        return pa.Table.from_batches(batches)

    return (
        cooc.select("year", "a", "activity", "c")
        .groupBy("year")
        .applyInArrow(pairs, PROXIMITY_SCHEMA)
    )


# --- density, COG, COI -----------------------------------------------------------------------


def _outlook_block(left: pa.Table, right: pa.Table, settings: YearSettings) -> pa.Table:
    """One block of one year: its places' density / COG cells (those ``density_pairs``
    selects) and one row per place with its raw COI (activity NULL)."""
    empty = pa.schema(
        [
            ("year", pa.int32()),
            ("block", pa.int32()),
            ("place", pa.int64()),
            ("activity", pa.string()),
            ("mcp", pa.float64()),
            ("density", pa.float64()),
            ("cog", pa.float64()),
            ("coi_raw", pa.float64()),
            ("known", pa.int32()),
        ]
    )
    if left.num_rows == 0 or right.num_rows == 0:
        return empty.empty_table()
    year, C, codes, right = _sorted_side(right)
    P = C.shape[0]
    pci = right.column("pci").to_numpy(zero_copy_only=False).astype(np.float64)
    ubiquity = right.column("ubiquity").to_numpy(zero_copy_only=False)
    diagonal = settings.proximity_diagonal  # this task's own phi: its diagonal set once
    side = activity_side(Proximity.of_cooccurrence(C, diagonal), ubiquity, pci, diagonal)
    block = int(left.column("block")[0].as_py())
    known = int(side.known.sum())
    left = left.sort_by("place")
    place, a = left.column("place").to_numpy(), left.column("a").to_numpy()
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(place)) + 1, [place.size]])
    step = max(1, CHUNK_CELLS // P)
    out = []
    for i in range(0, bounds.size - 1, step):
        lo, hi = bounds[i], bounds[min(i + step, bounds.size - 1)]
        places, rows = dense_rows(place[lo:hi], a[lo:hi], P)
        result = block_outlook(rows, side)
        r, p = np.nonzero(
            selected_cells(rows, result.density, settings.density_pairs, settings.density_top_k)
        )
        n_cells, n_places = r.size, places.size
        out.append(
            pa.table(
                {
                    "year": pa.array(np.full(n_cells + n_places, year, np.int32)),
                    "block": pa.array(np.full(n_cells + n_places, block, np.int32)),
                    "place": pa.array(np.concatenate([places[r], places])),
                    "activity": pa.concat_arrays(
                        [codes.take(pa.array(p)), pa.nulls(n_places, pa.string())]
                    ),
                    "mcp": pa.array(
                        np.concatenate([rows[r, p], np.full(n_places, np.nan)]), from_pandas=True
                    ),
                    "density": pa.array(
                        np.concatenate([result.density[r, p], np.full(n_places, np.nan)]),
                        from_pandas=True,
                    ),
                    "cog": pa.array(
                        np.concatenate([result.cog[r, p], np.full(n_places, np.nan)]),
                        from_pandas=True,
                    ),
                    "coi_raw": pa.array(
                        np.concatenate([np.full(n_cells, np.nan), result.coi_raw]), from_pandas=True
                    ),
                    "known": pa.array(np.full(n_cells + n_places, known, np.int32)),
                },
                schema=empty,
            )
        )
    return pa.concat_tables(out)


def outlook(
    M: DataFrame,
    pci: DataFrame,
    settings: YearSettings,
    partitions: int,
    block_cells: int = BLOCK_CELLS,
) -> tuple[DataFrame, DataFrame]:
    """(outlook rows, cooccurrence rows) of M's years. Outlook rows: ``OUTLOOK_SCHEMA``, a
    cell row per (place, activity) that ``settings.density_pairs`` selects (density, cog, mcp)
    and a place row per place (activity NULL, coi_raw); split by ``density_cells`` and
    ``place_coi``. The cooccurrence rows also feed ``proximity_pairs``."""
    activities = activity_index(M)
    ones = indexed_ones(M, activities, block_cells)
    cooc = cooccurrence_rows(ones, activities, partitions)
    side = cooc.join(
        pci.select("year", "activity", F.col("pci").cast("double")), ["year", "activity"], "left"
    )
    side = side.join(block_numbers(ones), "year").select(
        "year", "block", "a", "activity", "ubiquity", "pci", "c"
    )
    left = ones.select("year", "block", "place", "a")
    rows = (
        left.groupBy("year", "block")
        .cogroup(side.groupBy("year", "block"))
        .applyInArrow(lambda lt, rt: _outlook_block(lt, rt, settings), OUTLOOK_SCHEMA)
    )
    return rows, cooc


def density_cells(rows: DataFrame) -> DataFrame:
    """year, place, activity, mcp, density, cog: the cell rows of ``outlook``."""
    return rows.filter(F.col("activity").isNotNull()).select(
        "year", "place", "activity", "mcp", "density", "cog"
    )


def _block_moments(table: pa.Table) -> pa.Table:
    n, total, squares = coi_moments(table.column("coi_raw").to_numpy(zero_copy_only=False))
    return pa.table(
        {
            "year": table.column("year").slice(0, 1),
            "n": pa.array([n], pa.int64()),
            "total": pa.array([total], pa.float64()),
            "squares": pa.array([squares], pa.float64()),
            "known": table.column("known").slice(0, 1),
        }
    )


def place_coi(rows: DataFrame, normalization: str) -> DataFrame:
    """year, place, coi: the raw COI of ``outlook``'s place rows z-scored per year
    (``coi_moments`` per block, ``combined_moments`` per year, ``coi_scale``); NULL for a
    place with an activity without PCI."""

    def scale(table: pa.Table) -> pa.Table:
        n, total, squares = combined_moments(
            *(table.column(c).to_numpy(zero_copy_only=False) for c in ("n", "total", "squares"))
        )
        mean, sd = coi_scale(
            n, total, squares, int(table.column("known")[0].as_py()), normalization
        )
        return pa.table(
            {
                "year": table.column("year").slice(0, 1),
                "mean": pa.array([mean], pa.float64()),
                "sd": pa.array([sd], pa.float64()),
            }
        )

    def z(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            values = standardised(
                batch.column("coi_raw").to_numpy(zero_copy_only=False),
                batch.column("mean").to_numpy(zero_copy_only=False),
                batch.column("sd").to_numpy(zero_copy_only=False),
            )
            yield pa.RecordBatch.from_arrays(
                [batch.column("year"), batch.column("place"), pa.array(values, from_pandas=True)],
                names=["year", "place", "coi"],
            )

    places = rows.filter(F.col("activity").isNull()).select(
        "year", "block", "place", "coi_raw", "known"
    )
    moments = places.groupBy("year", "block").applyInArrow(_block_moments, MOMENTS_SCHEMA)
    scales = moments.groupBy("year").applyInArrow(scale, SCALE_SCHEMA)
    return (
        places.join(F.broadcast(scales), "year")
        .select("year", "place", "coi_raw", "mean", "sd")
        .mapInArrow(z, COI_SCHEMA)
    )
