"""RCA, location quotients and M of tall years as Spark window aggregations (no dense matrix).

The distributed counterpart of ``lib.measures.yearly.year_presence``, with the same rules in
the same order: smoothing (``lib.measures.smoothing``: each target year's window averaged with
its weights, the weights of years without rows left out), the size thresholds (a row is kept
if its place's total >= ``min_country_export``, its population is not below
``min_population`` (unknown: kept) and its activity's world total >= ``min_product_export``),
then on the kept rows

    share_c = X_cp / X_c,   share_p = X_p / X,   RCA = share_c / share_p,
    rca_difference = share_c - share_p,   RPOP = X_cp / pop_c / (X_p[known] / pop[known])

(sums over (year, place) and (year, activity): window aggregations; the year's total X: an
aggregation joined back, so that no year is held by one task), and M by the
presence test (``lib.measures.rca.presence_by_test`` applied per row in Arrow batches: the
kernel of the in-task path). The Atlas two-step's M over every exporter and the core's
activities (``all_ones``) is the same computation on those rows.

Columns are ``year, place (long), activity (string)``; the assembly
(``lib.execution.distributed.tables``) names them as the tables do.

Must not: collect rows on the driver, build a place x activity matrix, or hold a formula the
in-task path does not share (the arithmetic above is the same expressions as
``lib.measures.rca``, in Spark columns).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lib.measures.rca import presence_by_test
from lib.measures.yearly import YearSettings

CELL_SCHEMA = (
    "year int, place long, activity string, export_value double, rca double, "
    "rca_difference double, rpop double, mcp double"
)


@dataclass(frozen=True)
class Presence:
    """The year's presence, as DataFrames.

    - ``cells``: the kept rows with exports (``CELL_SCHEMA``);
    - ``places``: every place with a row: year, place, export_value (all its exports), kept,
      population, gdp_per_capita;
    - ``activities``: every activity with a row: year, activity, world_export_value, kept,
      share (X_p / X over the kept rows; NULL if not kept);
    - ``all_ones``: the two-step only: year, place, activity of M = 1 among every exporter and
      the kept activities (None otherwise).
    """

    cells: DataFrame
    places: DataFrame
    activities: DataFrame
    all_ones: DataFrame | None = None


def long_rows(exports: DataFrame) -> DataFrame:
    """exports rows (year, country_code, product, export_value[, source_year]) as
    year, place, activity, export_value[, source_year]."""
    columns = [
        F.col("year").cast("int").alias("year"),
        F.col("country_code").cast("long").alias("place"),
        F.col("product").cast("string").alias("activity"),
        F.col("export_value").cast("double").alias("export_value"),
    ]
    if "source_year" in exports.columns:
        columns.append(F.col("source_year").cast("int").alias("source_year"))
    return exports.select(*columns)


def smoothed(rows: DataFrame, weights: tuple[float, ...]) -> DataFrame:
    """Each target year's window averaged (``lib.measures.smoothing.smoothed_rows``):
    Xbar = sum_i X(t - i) w_i / (sum of w_i over the window's years with rows)."""
    if not weights or "source_year" not in rows.columns:
        return rows.drop("source_year") if "source_year" in rows.columns else rows
    w = F.element_at(
        F.array(*[F.lit(float(x)) for x in weights]), F.col("year") - F.col("source_year") + 1
    )
    totals = (
        rows.select("year", "source_year")
        .distinct()
        .withColumn("w", w)
        .groupBy("year")
        .agg(F.sum("w").alias("total_weight"))
    )
    return (
        rows.join(F.broadcast(totals), "year")
        .withColumn("export_value", F.col("export_value") * w / F.col("total_weight"))
        .groupBy("year", "place", "activity")
        .agg(F.sum("export_value").alias("export_value"))
    )


def _sum_over(column: str, *keys: str):
    return F.sum(column).over(Window.partitionBy(*keys))


def _with_year_total(rows: DataFrame, name: str) -> DataFrame:
    """``rows`` with each year's total export_value as ``name``: an aggregation joined back
    (one row a year, broadcast), not a window over (year), which would put a year in one task."""
    totals = rows.groupBy("year").agg(F.sum("export_value").alias(name))
    return rows.join(F.broadcast(totals), "year")


def presence(
    exports: DataFrame, settings: YearSettings, attributes: DataFrame | None = None
) -> Presence:
    """Thresholds, RCA, RPOP and M of every year of ``exports``; ``attributes``: year, place,
    population, gdp_per_capita (the country attributes input, None without)."""
    rows = smoothed(long_rows(exports), settings.smoothing_weights)
    if attributes is None:
        rows = rows.withColumn("population", F.lit(None).cast("double")).withColumn(
            "gdp_per_capita", F.lit(None).cast("double")
        )
    else:
        rows = rows.join(F.broadcast(attributes), ["year", "place"], "left")
    rows = rows.withColumn("total", _sum_over("export_value", "year", "place")).withColumn(
        "world", _sum_over("export_value", "year", "activity")
    )
    keep = (
        (F.col("export_value") > 0)
        & (F.col("total") >= F.lit(float(settings.min_country_export)))
        & ~F.coalesce(F.col("population") < F.lit(float(settings.min_population)), F.lit(False))
        & (F.col("world") >= F.lit(float(settings.min_product_export)))
    )
    rows = rows.withColumn("kept", keep)
    kept = rows.where("kept")
    cells = _rca_cells(kept, settings)
    places = rows.groupBy("year", "place").agg(
        F.first("total").alias("export_value"),
        F.max(F.col("kept").cast("int")).cast("boolean").alias("kept"),
        F.first("population").alias("population"),
        F.first("gdp_per_capita").alias("gdp_per_capita"),
    )
    shares = (
        _with_year_total(kept, "x_all")
        .groupBy("year", "activity")
        .agg((F.sum("export_value") / F.first("x_all")).alias("share"))
    )
    activities = (
        rows.groupBy("year", "activity")
        .agg(
            F.first("world").alias("world_export_value"),
            F.max(F.col("kept").cast("int")).cast("boolean").alias("kept"),
        )
        .join(shares, ["year", "activity"], "left")
    )
    all_ones = None
    if settings.two_step:
        core = activities.where("kept").select("year", "activity")
        every = rows.where(F.col("export_value") > 0).join(core, ["year", "activity"])
        all_ones = _rca_cells(every, settings).where("mcp > 0").select("year", "place", "activity")
    return Presence(cells, places, activities, all_ones)


def _rca_cells(rows: DataFrame, settings: YearSettings) -> DataFrame:
    """RCA, rca_difference, RPOP and M of a set of rows with exports (each place's population
    counted once per year among the places of ``rows``)."""
    known = (F.col("population") > 0) & ~F.isnan(F.col("population"))
    pop_total = (
        rows.where(known)
        .select("year", "place", "population")
        .distinct()
        .groupBy("year")
        .agg(F.sum("population").alias("pop_total"))
    )
    per_person = (
        rows.where(known)
        .groupBy("year", "activity")
        .agg(F.sum("export_value").alias("x_known"))
        .join(pop_total, "year")
        .select("year", "activity", (F.col("x_known") / F.col("pop_total")).alias("per_person"))
    )
    share_c = F.col("export_value") / _sum_over("export_value", "year", "place")
    share_p = _sum_over("export_value", "year", "activity") / F.col("x_year")
    with_rca = (
        _with_year_total(rows, "x_year")
        .withColumn("share_c", share_c)
        .withColumn("share_p", share_p)
        .join(per_person, ["year", "activity"], "left")
        .select(
            "year",
            "place",
            "activity",
            "export_value",
            (F.col("share_c") / F.col("share_p")).alias("rca"),
            (F.col("share_c") - F.col("share_p")).alias("rca_difference"),
            F.when(known, F.col("export_value") / F.col("population") / F.col("per_person")).alias(
                "rpop"
            ),
        )
    )

    def present(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rca = batch.column("rca").to_numpy(zero_copy_only=False)
            rpop = batch.column("rpop").to_numpy(zero_copy_only=False)
            mcp = presence_of(rca, rpop, settings)
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, pa.array(mcp, pa.float64())],
                names=[*batch.schema.names, "mcp"],
            )

    return with_rca.mapInArrow(present, CELL_SCHEMA)


def presence_of(rca: np.ndarray, rpop: np.ndarray, settings: YearSettings) -> np.ndarray:
    """M of rows by ``settings.presence_test`` (``lib.measures.rca.presence_by_test``, the
    in-task path's kernel)."""
    return presence_by_test(
        np.asarray(rca, dtype=np.float64),
        np.asarray(rpop, dtype=np.float64),
        settings.presence_test,
        settings.rca_threshold,
        settings.rca_strict,
        settings.rpop_threshold,
    )
