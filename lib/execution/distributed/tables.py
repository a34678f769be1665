"""The distributed path assembled: exports rows -> the rows of the indicator tables.

``distributed_tables`` runs, for the years ``execution.matrix`` sends here
(``lib.execution.distributed.choice``): presence (RCA, M: ``presence``), Fitness
(``fitness``), ECI / PCI (``eci``), the product space (``product_space``), and shapes their
output as the in-task yearly tasks do (``lib.measures.yearly.summary_tables``,
``lib.measures.year_rows``):

- per place and per activity: the small rows (``country`` / ``product``), collected as Arrow
  (one row a place-year: ~120 bytes; 100,000 places x 30 years is ~0.4 GB on the driver, the
  limit of this path's small tables) and ranked there with the in-task kernels
  (``descending_rank``, ``safe_log10``);
- the grid (``country_product_year``) and the proximity pairs as lazy DataFrames, written by
  Spark's Delta writer.

What differs from the in-task tables (docs/execution.md, "Which path"): ``expy`` / ``prody``
are NULL (GDP-weighted sums not distributed); with ``density_pairs = all`` / ``absent`` the
grid leaves out the cells without exports of places or activities that have no M = 1 at all
(the in-task grid writes them with density NULL).

Must not hold a formula, or read the config.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.execution.distributed.cooccurrence import activity_index, indexed_ones
from lib.execution.distributed.eci import distributed_eci
from lib.execution.distributed.fitness import cached_ones, distributed_fitness
from lib.execution.distributed.presence import presence
from lib.execution.distributed.product_space import (
    density_cells,
    outlook,
    place_coi,
    proximity_pairs,
)
from lib.measures.matrix import descending_rank, safe_log10
from lib.measures.yearly import YearSettings

GRID_COLUMNS = [
    "year",
    "country_code",
    "product",
    "export_value",
    "rca",
    "rca_difference",
    "mcp",
    "rpop",
    "density",
    "cog",
]


@dataclass
class DistributedTables:
    """Small rows (pandas, as ``summary_tables``) and the large tables (lazy DataFrames)."""

    country: pd.DataFrame
    product: pd.DataFrame
    convergence: pd.DataFrame
    grid: DataFrame
    proximity: DataFrame | None
    cached: tuple[DataFrame, ...]
    pass_seconds: list[float]


def _vector_rows(spark: SparkSession, codes: pd.DataFrame, vectors: dict, name: str) -> DataFrame:
    """year, activity, <name> from per-year vectors over the activity index (``codes``: year,
    activity, a)."""
    frames = []
    for year, vector in vectors.items():
        c = codes[codes["year"] == year].sort_values("a")
        frames.append(pd.DataFrame({"year": year, "activity": c["activity"], name: vector}))
    frame = pd.concat(frames) if frames else pd.DataFrame({"year": [], "activity": [], name: []})
    frame["activity"] = frame["activity"].astype(object)
    frame["year"] = frame["year"].astype("int32")
    return spark.createDataFrame(frame, f"year int, activity string, {name} double")


def distributed_tables(
    spark: SparkSession,
    exports: DataFrame,
    settings: YearSettings,
    partitions: int,
    attributes: DataFrame | None = None,
) -> DistributedTables:
    """Every indicator of the years of ``exports`` (year, country_code, product, export_value
    [, source_year]) on the distributed path."""
    pres = presence(exports, settings, attributes)
    cells = pres.cells.persist(StorageLevel.MEMORY_AND_DISK)
    M = cells.select("year", "place", "activity", "mcp")
    index = activity_index(M).persist()
    ones = cached_ones(indexed_ones(M, index), partitions)
    codes = index.select("year", "activity", "a", "ubiquity").toPandas()
    sizes = codes.groupby("year").size().to_dict()
    fit = None
    if settings.fitness and sizes:
        fit = distributed_fitness(spark, ones, sizes, settings)
    ones_with_p = indexed_ones(M, index)
    eci = distributed_eci(spark, ones_with_p, index, partitions, settings.normalization)
    pci_df = _vector_rows(spark, codes, eci.pci, "pci")
    places = pres.places.toPandas()
    activities = pres.activities.toPandas()
    diversity = (
        ones.groupBy("year", "place").agg(F.count(F.lit(1)).alias("diversification")).toPandas()
    )
    place_rows = places.merge(diversity, on=["year", "place"], how="left")
    if fit is not None:
        place_rows = place_rows.merge(fit.fitness.toPandas(), on=["year", "place"], how="left")
    else:
        place_rows["fitness"] = np.nan
    place_rows = place_rows.merge(eci.places.toPandas(), on=["year", "place"], how="left")
    grid_extra, proximity, coi = None, None, None
    cached = [cells, index, ones]
    if settings.product_space:
        rows, cooc = outlook(M, pci_df, settings, partitions)
        rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
        cooc = cooc.persist(StorageLevel.MEMORY_AND_DISK)
        cached += [rows, cooc]
        coi = place_coi(rows, settings.normalization).toPandas()
        grid_extra = density_cells(rows)
        proximity = proximity_pairs(cooc, settings.min_proximity)
    place_rows = (
        place_rows.merge(coi, on=["year", "place"], how="left")
        if coi is not None
        else place_rows.assign(coi=np.nan)
    )
    if pres.all_ones is not None:  # the Atlas two-step
        place_rows = _two_step(place_rows, pres.all_ones, pci_df)
    country = _country(place_rows)
    product = _product(activities, codes, fit, eci.pci)
    convergence = _convergence(fit, settings)
    grid = _grid(cells, grid_extra, pres)
    return DistributedTables(
        country,
        product,
        convergence,
        grid,
        proximity,
        tuple(cached),
        fit.pass_seconds if fit else [],
    )


def _two_step(place_rows: pd.DataFrame, all_ones: DataFrame, pci: DataFrame) -> pd.DataFrame:
    """Outside the core: ECI = mean PCI of the core activities a place has (M among every
    exporter; ``lib.measures.yearly.two_step_eci``), diversification their count."""
    outside = (
        all_ones.join(pci, ["year", "activity"], "left")
        .groupBy("year", "place")
        .agg(
            F.count(F.lit(1)).alias("all_diversification"),
            F.avg(F.when(~F.isnan("pci"), F.col("pci"))).alias("projected"),
        )
        .toPandas()
    )
    rows = place_rows.merge(outside, on=["year", "place"], how="left")
    core = rows["kept"].astype(bool)
    rows["eci"] = np.where(core, rows["eci"], rows["projected"])
    rows["mean_product_complexity"] = np.where(
        core, rows["mean_product_complexity"], rows["projected"]
    )
    rows["diversification"] = np.where(
        core, rows["diversification"].fillna(0), rows["all_diversification"]
    )
    rows["two_step"] = True
    return rows


def _country(rows: pd.DataFrame) -> pd.DataFrame:
    """The per-place rows of ``summary_tables``, ranked per year with the same kernels."""
    rows = rows.sort_values(["year", "place"]).reset_index(drop=True)
    kept = rows["kept"].astype(bool)
    if "two_step" in rows:
        has = kept | rows["all_diversification"].notna()
        diversification = pd.array(rows["diversification"].fillna(0).astype(int), "Int32")
        diversification[~has.to_numpy()] = pd.NA
    else:
        diversification = pd.array(rows["diversification"].fillna(0).astype(int), "Int32")
        diversification[~kept.to_numpy()] = pd.NA
    out = pd.DataFrame(
        {
            "year": rows["year"].astype(np.int32),
            "country_code": rows["place"].astype(np.int32),
            "export_value": rows["export_value"].astype(float),
            "diversification": diversification,
            "fitness": rows["fitness"].astype(float),
            "eci": rows["eci"].astype(float),
            "coi": rows["coi"].astype(float),
            "mean_product_complexity": rows["mean_product_complexity"].astype(float),
            "in_core": kept.to_numpy(),
            "population": rows["population"].astype(float),
            "gdp_per_capita": rows["gdp_per_capita"].astype(float),
            "expy": np.nan,
        }
    )
    out["log10_fitness"] = safe_log10(out["fitness"].to_numpy())
    out["fitness_rank"] = _ranks(out, "fitness")
    out["eci_rank"] = _ranks(out, "eci")
    return out


def _ranks(frame: pd.DataFrame, column: str) -> pd.Series:
    parts = [
        descending_rank(g[column].to_numpy()).set_axis(g.index)
        for _, g in frame.groupby("year", sort=False)
    ]
    return pd.concat(parts).reindex(frame.index) if parts else pd.Series(dtype="Int32")


def _product(activities: pd.DataFrame, codes: pd.DataFrame, fit, pci: dict) -> pd.DataFrame:
    """The per-activity rows of ``summary_tables``."""
    vectors = []
    for year, c in codes.groupby("year"):
        c = c.sort_values("a")
        vectors.append(
            pd.DataFrame(
                {
                    "year": year,
                    "activity": c["activity"].to_numpy(),
                    "ubiquity": c["ubiquity"].to_numpy(),
                    "complexity": fit.complexity[year] if fit is not None else np.nan,
                    "pci": pci.get(year, np.full(len(c), np.nan)),
                }
            )
        )
    columns = ["year", "activity", "ubiquity", "complexity", "pci"]
    side = pd.concat(vectors) if vectors else pd.DataFrame({c: [] for c in columns})
    side["year"] = side["year"].astype(np.int32)
    rows = activities.merge(side, on=["year", "activity"], how="left")
    rows = rows.sort_values(["year", "activity"]).reset_index(drop=True)
    kept = rows["kept"].astype(bool).to_numpy()
    ubiquity = pd.array(rows["ubiquity"].fillna(0).astype(int), "Int32")
    ubiquity[~kept] = pd.NA
    out = pd.DataFrame(
        {
            "year": rows["year"].astype(np.int32),
            "product": rows["activity"].astype(object),
            "world_export_value": rows["world_export_value"].astype(float),
            "ubiquity": ubiquity,
            "complexity": rows["complexity"].astype(float),
            "pci": rows["pci"].astype(float),
            "in_core": kept,
            "prody": np.nan,
        }
    )
    out["log10_complexity"] = safe_log10(out["complexity"].to_numpy())
    out["complexity_rank"] = _ranks(out, "complexity")
    return out


def _convergence(fit, settings: YearSettings) -> pd.DataFrame:
    if fit is None:
        return pd.DataFrame(
            {"year": [], "iterations": [], "final_change": [], "execution": [], "method": []}
        )
    years = sorted(fit.iterations)
    return pd.DataFrame(
        {
            "year": np.array(years, np.int32),
            "iterations": [fit.iterations[y] for y in years],
            "final_change": [fit.final_change[y] for y in years],
            "execution": ["distributed"] * len(years),
            "method": [settings.fitness_method] * len(years),
        }
    )


def _grid(cells: DataFrame, extra: DataFrame | None, pres) -> DataFrame:
    """country_product_year rows: the cells with exports, and the density cells chosen."""
    if extra is None:
        rows = cells.select(
            "*",
            F.lit(None).cast("double").alias("density"),
            F.lit(None).cast("double").alias("cog"),
        )
    else:
        share = pres.activities.select("year", "activity", "share")
        known = pres.places.select(
            "year",
            "place",
            ((F.col("population") > 0) & ~F.isnan("population")).alias("pop_known"),
        )
        absent = (
            extra.join(
                cells.select("year", "place", "activity"),
                ["year", "place", "activity"],
                "left_anti",
            )
            .join(share, ["year", "activity"])
            .join(known, ["year", "place"])
            .select(
                "year",
                "place",
                "activity",
                F.lit(0.0).alias("export_value"),
                F.lit(0.0).alias("rca"),
                (-F.col("share")).alias("rca_difference"),
                F.when(F.col("pop_known"), F.lit(0.0)).alias("rpop"),
                F.lit(0.0).alias("mcp"),
                "density",
                "cog",
            )
        )
        present = cells.join(
            extra.select("year", "place", "activity", "density", "cog"),
            ["year", "place", "activity"],
            "left",
        )
        rows = present.unionByName(absent)
    return rows.select(
        "year",
        F.col("place").cast("int").alias("country_code"),
        F.col("activity").alias("product"),
        "export_value",
        "rca",
        "rca_difference",
        F.col("mcp").cast("int").alias("mcp"),
        F.when(~F.isnan("rpop"), F.col("rpop")).alias("rpop"),
        F.when(~F.isnan("density"), F.col("density")).alias("density"),
        F.when(~F.isnan("cog"), F.col("cog")).alias("cog"),
    )


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)
