"""M's ones indexed for the blockwise product space, and C = M^T M accumulated across tasks.

Steps 1-3 of ``lib.execution.distributed.product_space`` (see its docstring for the inputs and
the limits): ``activity_index`` (per year the active activities numbered in code order, with
their ubiquity), ``indexed_ones`` (M's ones with that index and their block of places) and
``cooccurrence_rows`` (each task sums ``cooccurrence`` of dense place rows into one partial
P x P per year; the partials' rows are then summed per activity row).

Must not: collect rows on the driver, use RDDs or the SparkContext (Spark Connect), or hold a
formula of its own (``cooccurrence`` is the in-task kernel).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lib.measures.product_space import cooccurrence

# Measured (bench/baci_matrix_paths.py, 2026-12-07): a Python worker peaks at 0.44 GiB with
# 1,217 activities and 2.44 GiB with 4,961 (about a dozen P x P float64 copies in flight: the
# cogrouped C rows, their numpy copy, phi and the activity side); at 2,000: 0.48 GiB.
MAX_ACTIVITIES = 2_000
BLOCK_CELLS = 2_000_000
CHUNK_CELLS = 1_000_000  # dense place rows made at a time inside a task (8 MB)

C_ROWS = "year int, a int, c array<double>"


def ones_of(M: DataFrame) -> DataFrame:
    """M's ones: year, place, activity (rows with mcp > 0)."""
    return M.filter(F.col("mcp") > 0).select(
        F.col("year").cast("int").alias("year"),
        F.col("place").cast("long").alias("place"),
        F.col("activity").cast("string").alias("activity"),
    )


def activity_index(M: DataFrame) -> DataFrame:
    """year, activity, a (0..P-1 in code order), ubiquity, activities (P) of each year's active
    activities. The window is per year over its P activities (at most ``MAX_ACTIVITIES``)."""
    per_year = Window.partitionBy("year")
    return (
        ones_of(M)
        .groupBy("year", "activity")
        .agg(F.count(F.lit(1)).cast("double").alias("ubiquity"))
        .withColumn("a", (F.row_number().over(per_year.orderBy("activity")) - 1).cast("int"))
        .withColumn("activities", F.count(F.lit(1)).over(per_year).cast("int"))
    )


def indexed_ones(M: DataFrame, activities: DataFrame, block_cells: int = BLOCK_CELLS) -> DataFrame:
    """year, place, a, block, activities: M's ones with their activity index and block."""
    ones = ones_of(M)
    shape = (
        ones.groupBy("year")
        .agg(F.countDistinct("place").alias("places"))
        .join(activities.select("year", "activities").distinct(), "year")
        .select(
            "year",
            F.greatest(F.lit(1), F.ceil(F.col("places") * F.col("activities") / F.lit(block_cells)))
            .cast("int")
            .alias("blocks"),
        )
    )
    index = activities.select("year", "activity", "a", "activities")
    return (
        ones.join(F.broadcast(index), ["year", "activity"])
        .join(F.broadcast(shape), "year")
        .select(
            "year",
            "place",
            "a",
            F.pmod(F.xxhash64("place"), F.col("blocks")).cast("int").alias("block"),
            "activities",
        )
    )


def block_numbers(ones: DataFrame) -> DataFrame:
    """year, block: every block of each year (those holding at least one place)."""
    return ones.select("year", "block").distinct()


# --- co-occurrence ---------------------------------------------------------------------------


def _list_column(rows: np.ndarray) -> pa.Array:
    """A (n x P) float64 matrix as an Arrow list<double> column, one list per row."""
    n, width = rows.shape
    offsets = pa.array(np.arange(n + 1, dtype=np.int32) * width, pa.int32())
    return pa.ListArray.from_arrays(offsets, pa.array(rows.reshape(-1), pa.float64()))


def rows_of(column: pa.ChunkedArray | pa.Array, width: int) -> np.ndarray:
    """An Arrow list<double> column of equal-length lists as an (n x width) float64 matrix."""
    flat = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return flat.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)


def check_activities(year: int, P: int) -> None:
    if P > MAX_ACTIVITIES:
        raise ValueError(
            f"year {year}: {P:,} activities; the distributed product space holds phi "
            f"(activities x activities) in every task and stops at {MAX_ACTIVITIES:,} "
            "(docs/execution.md, 'Product space at scale'): aggregate the activities or set "
            "product_space.enabled = false"
        )


def dense_rows(place: np.ndarray, a: np.ndarray, P: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct places (sorted) and their dense 0/1 rows over P activities."""
    places, row = np.unique(place, return_inverse=True)
    rows = np.zeros((places.size, P))
    rows[row, a] = 1.0
    return places, rows


def _partial_cooccurrence(
    batches: Iterator[pa.RecordBatch], kernel: Callable[[np.ndarray], np.ndarray] = cooccurrence
) -> Iterator[pa.RecordBatch]:
    """One task: its places' share of each year's C (rows sorted by year, place; a place is
    never split across chunks, a year's partial is emitted when the next year starts).
    ``kernel`` maps dense place rows to their P x P share: ``cooccurrence`` (M^T M) or ECI's
    ``weighted_cooccurrence`` (M^T D^-1 M), both whole-place (a place's row is never split)."""
    state: dict[str, object] = {"year": None, "C": None}

    def emit() -> Iterator[pa.RecordBatch]:
        C = state["C"]
        if C is not None:
            nonzero = np.flatnonzero(C.any(axis=1))
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(np.full(nonzero.size, state["year"], np.int32)),
                    pa.array(nonzero.astype(np.int32)),
                    _list_column(C[nonzero]),
                ],
                names=["year", "a", "c"],
            )
        state["C"] = None

    def add(table: pa.Table) -> Iterator[pa.RecordBatch]:
        years = table.column("year").to_numpy()
        for year in np.unique(years):  # sorted: at most the first is the current year
            part = table.filter(pc.equal(table.column("year"), pa.scalar(year, pa.int32())))
            P = int(part.column("activities")[0].as_py())
            check_activities(int(year), P)
            if state["year"] != int(year):
                yield from emit()
                state["year"], state["C"] = int(year), np.zeros((P, P))
            place = part.column("place").to_numpy()
            a = part.column("a").to_numpy()
            bounds = np.flatnonzero(np.diff(place)) + 1  # place changes (sorted)
            starts = np.concatenate([[0], bounds])
            step = max(1, CHUNK_CELLS // P)
            for i in range(0, starts.size, step):
                lo = starts[i]
                hi = starts[i + step] if i + step < starts.size else place.size
                state["C"] += kernel(dense_rows(place[lo:hi], a[lo:hi], P)[1])

    pending: pa.Table | None = None
    for batch in batches:
        table = pa.Table.from_batches([batch])
        if pending is not None:
            table = pa.concat_tables([pending, table])
        if table.num_rows == 0:
            continue
        year, place = table.column("year").to_numpy(), table.column("place").to_numpy()
        last = (year == year[-1]) & (place == place[-1])
        cut = int(np.argmax(last))  # the last place's rows are kept for the next batch
        pending = table.slice(cut)
        yield from add(table.slice(0, cut))
    if pending is not None and pending.num_rows:
        yield from add(pending)
    yield from emit()


def _summed_rows(table: pa.Table) -> pa.Table:
    """One (year, a) group: the tasks' partial rows of C summed."""
    width = len(table.column("c")[0])
    total = rows_of(table.column("c"), width).sum(axis=0, keepdims=True)
    return pa.table(
        {
            "year": table.column("year").slice(0, 1),
            "a": table.column("a").slice(0, 1),
            "c": _list_column(total),
        }
    )


def cooccurrence_rows(
    ones: DataFrame,
    activities: DataFrame,
    partitions: int,
    kernel: Callable[[np.ndarray], np.ndarray] = cooccurrence,
) -> DataFrame:
    """year, a, activity, ubiquity, activities, c: row a of each year's C = M^T M (or of
    another whole-place ``kernel``'s sum), from ``partitions`` tasks each holding one partial
    P x P at a time."""
    partial = (
        ones.select("year", "place", "a", "activities")
        .repartition(partitions, "year", "place")
        .sortWithinPartitions("year", "place")
        .mapInArrow(functools.partial(_partial_cooccurrence, kernel=kernel), C_ROWS)
    )
    rows = partial.groupBy("year", "a").applyInArrow(_summed_rows, C_ROWS)
    return rows.join(activities, ["year", "a"])
