"""ECI and PCI of tall years from the activity side: no place x place matrix is ever formed.

The in-task path (``lib.measures.eci.eci_pci_matrix``) solves the eigenproblem of one dense
year on its smaller side (with ``pci_from_activity_matrix``, this path's kernel, when places
are more); here the year is never dense and W is summed from blocks of places. Per year:

1. W = M^T D^-1 M (activities x activities) is summed blockwise across tasks
   (``cooccurrence_rows`` with ``weighted_cooccurrence``: each task holds one P x P partial);
2. W's rows go to the driver (P x P floats a year: 8 MB at 1,000 activities, 32 MB at the
   limit ``MAX_ACTIVITIES`` = 2,000); the largest connected
   component (the in-task rule: most places, then most activities, then the later first
   place) is found from W's pattern (activities sharing a place) with the places counted per
   component in Spark; ``pci_from_activity_matrix`` gives PCI's eigenvector kp and lambda2;
3. a place's raw ECI is the mean kp of its activities (e = D^-1 M kp): two passes over the
   places reduce its mean, its squared deviations and its covariance with diversity
   (``orientation`` and ``normalised_scale``, the in-task kernels), and a last pass writes each
   place's ECI and mean product complexity.

Must not: collect place rows on the driver, use RDDs or the SparkContext, or hold a formula of
its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from lib.execution.distributed.cooccurrence import check_activities, cooccurrence_rows, rows_of
from lib.execution.distributed.fitness import planned_years
from lib.measures.eci import (
    normalised_scale,
    orientation,
    pci_from_activity_matrix,
    weighted_cooccurrence,
)

MOMENT_SCHEMA = (
    "year int, n long, e double, d double, high double, low double, ee double, dd double, ed double"
)
PLACE_SCHEMA = "year int, place long, eci double, mean_product_complexity double"


@dataclass(frozen=True)
class EciRun:
    """PCI of every year per activity index (NaN outside the component; on the driver) and
    the places' ECI as a DataFrame (year, place, eci, mean_product_complexity)."""

    pci: dict[int, np.ndarray]
    places: DataFrame


def _year_side(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """One year's W rows (any order) as (W in index order, ubiquity)."""
    table = table.sort_by("a")
    P = table.num_rows
    return rows_of(table.column("c"), P), table.column("ubiquity").to_numpy(zero_copy_only=False)


def _place_values(table: pa.Table, year: int, kp: np.ndarray):
    part = table.filter(pc.equal(table.column("year"), pa.scalar(year, pa.int32())))
    a = part.column("a").to_numpy()
    inside = np.isfinite(kp[a])
    place = part.column("place").to_numpy()[inside]
    a = a[inside]
    places, inverse = np.unique(place, return_inverse=True)
    d = np.bincount(inverse, minlength=places.size).astype(np.float64)
    e = np.bincount(inverse, weights=kp[a], minlength=places.size) / d
    return places, inverse, a, d, e


def _moments(plan: dict, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Per year of ``plan`` (year -> (kp, mean e, mean d) or (kp, None, None)): count, sums
    (first pass) or squared deviations and co-deviation (second), and e's extremes."""
    for year, table in planned_years(plan, batches):
        kp, me, md = plan[int(year)]
        places, _, _, d, e = _place_values(table, int(year), kp)
        if not places.size:
            continue
        if me is None:
            values = [e.sum(), d.sum(), e.max(), e.min(), np.nan, np.nan, np.nan]
        else:
            de, dd = e - me, d - md
            values = [np.nan, np.nan, np.nan, np.nan, (de**2).sum(), (dd**2).sum(), (de * dd).sum()]
        yield pa.RecordBatch.from_arrays(
            [pa.array([int(year)], pa.int32()), pa.array([places.size], pa.int64())]
            + [pa.array([float(v)], pa.float64()) for v in values],
            names=["year", "n", "e", "d", "high", "low", "ee", "dd", "ed"],
        )


def _place_rows(plan: dict, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for year, table in planned_years(plan, batches):
        kp, sign, mean, sd, pci = plan[int(year)]
        places, inverse, a, d, e = _place_values(table, int(year), kp)
        mean_pci = np.bincount(inverse, weights=pci[a], minlength=places.size) / d
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(np.full(places.size, int(year), np.int32)),
                pa.array(places, pa.int64()),
                pa.array((sign * e - mean) / sd, pa.float64()),
                pa.array(mean_pci, pa.float64()),
            ],
            names=["year", "place", "eci", "mean_product_complexity"],
        )


def _reduce(ones: DataFrame, plan: dict) -> dict[int, dict[str, float]]:
    rows = ones.mapInArrow(partial(_moments, plan), MOMENT_SCHEMA).toPandas()
    out = {}
    for year, g in rows.groupby("year"):
        out[int(year)] = {
            "n": int(g["n"].sum()),
            **{k: float(g[k].sum()) for k in ("e", "d", "ee", "dd", "ed")},
            "high": float(g["high"].max()),
            "low": float(g["low"].min()),
        }
    return out


def largest_component(
    spark: SparkSession, ones: DataFrame, W: dict[int, np.ndarray]
) -> dict[int, np.ndarray]:
    """Per year, the mask of the activities of the largest connected component of the
    place-activity graph (most places; ties: most activities, then the later first place, as
    ``lib.measures.matrix.largest_component``)."""
    labels = {}
    rows = []
    for year, matrix in W.items():
        _, label = connected_components(csr_matrix(matrix != 0), directed=False)
        labels[year] = label
        rows += [(year, int(a), int(lab)) for a, lab in enumerate(label)]
    label_df = spark.createDataFrame(rows, "year int, a int, label int")
    counted = (
        ones.join(F.broadcast(label_df), ["year", "a"])
        .groupBy("year", "label")
        .agg(F.countDistinct("place").alias("places"), F.min("place").alias("first"))
        .toPandas()
    )
    masks = {}
    for year, label in labels.items():
        c = counted[counted["year"] == year].copy()
        c["activities"] = c["label"].map(pd.Series(np.bincount(label)))
        best = c.sort_values(["places", "activities", "first"]).iloc[-1]["label"]
        masks[year] = label == best
    return masks


def distributed_eci(
    spark: SparkSession,
    ones: DataFrame,
    activities: DataFrame,
    partitions: int,
    normalization: str,
) -> EciRun:
    """ECI / PCI of every year of ``ones`` (year, place, a, activities: ``indexed_ones``, in
    any partitioning; ``activities``: ``activity_index``)."""
    W_rows = cooccurrence_rows(ones, activities, partitions, kernel=weighted_cooccurrence)
    W_rows = W_rows.persist()
    years = sorted(r["year"] for r in activities.select("year").distinct().collect())
    W, u = {}, {}
    for year in years:
        table = W_rows.where(F.col("year") == year).select("a", "c", "ubiquity").toArrow()
        check_activities(year, table.num_rows)
        W[year], u[year] = _year_side(table)
    W_rows.unpersist()
    # The place kernels (_moments, _place_rows) reduce a place's ones within one task: the
    # ones must be partitioned by (year, place) here, whatever partitioning the caller's plan
    # happens to have (a place split over two tasks gives two partial rows and wrong moments).
    slim = ones.select("year", "place", "a").repartition(partitions, "year", "place")
    masks = largest_component(spark, slim, W)
    kps, sizes = {}, {}
    for year in years:
        P = W[year].shape[0]
        kp = np.full(P, np.nan)
        inside = masks[year]
        found = pci_from_activity_matrix(W[year][np.ix_(inside, inside)], u[year][inside])
        if found is not None:
            kp[inside] = found[0]
            kps[year] = kp
        sizes[year] = int(inside.sum())
    first = _reduce(slim, {y: (kp, None, None) for y, kp in kps.items()})
    kps = {y: kp for y, kp in kps.items() if first[y]["n"] >= 2}  # C < 2: undefined
    means = {y: (first[y]["e"] / first[y]["n"], first[y]["d"] / first[y]["n"]) for y in kps}
    second = _reduce(slim, {y: (kp, *means[y]) for y, kp in kps.items()})
    pci, plan = {}, {}
    for year in years:
        P = W[year].shape[0]
        pci[year] = np.full(P, np.nan)
        if year not in kps:
            continue
        r1, r2, kp = first[year], second[year], kps[year]
        n = r1["n"]
        largest = r1["high"] if abs(r1["high"]) >= abs(r1["low"]) else r1["low"]
        sign = orientation(r2["ed"] / n, r2["dd"] / n, largest)
        inside = np.isfinite(kp)
        mean, sd, values = normalised_scale(
            normalization, n, sizes[year], sign * means[year][0], r2["ee"], sign * kp[inside]
        )
        pci[year][inside] = values
        plan[year] = (kp, sign, mean, sd, pci[year])
    places = slim.mapInArrow(partial(_place_rows, plan), PLACE_SCHEMA)
    return EciRun(pci, places)
