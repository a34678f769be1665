"""Fitness and Complexity (Tacchella, Cristelli, Caldarelli, Gabrielli, Pietronero 2012).

Starting from F_c = Q_p = 1, each step uses the *previous* iterate for both updates:

    F~_c = sum_p M_cp Q_p                 F_c = F~_c / mean_c(F~)
    Q~_p = 1 / sum_c (M_cp / F_c)         Q_p = Q~_p / mean_p(Q~)

(means over active countries / products). ``max_iterations`` = N means N updates, so the R
package ``economiccomplexity``'s "20 iterations" is N = 19. With ``tolerance`` > 0 the iteration
stops after the first step whose change max(max|F_t - F_{t-1}|, max|Q_t - Q_{t-1}|) is below it;
0 runs all N steps. WHY record steps and change: the map has no non-zero fixed point on realistic
matrices (fitness outside the nested core decays towards 0, 1e-40 after 200 steps), so the result
depends on the stopping rule, which therefore goes into the convergence table. If an update would
underflow (a fitness reaching 0 or a non-finite value) the iteration stops at the last finite
iterate.

Execution paths (same driver loop, same numbers up to summation order):

- ``per_year``: one task per year runs the numpy core (``groupBy("year").applyInPandas``).
- ``country_blocks``: for years too big for one task. The 1-entries of M are grouped into blocks
  of ``country_block_size`` countries and cached as an RDD of small index arrays. Each step
  broadcasts only the F and Q vectors; every block returns its rows of F~ and its partial column
  sums sum_c M_cp / F_c, combined with ``treeReduce``. Only vectors reach the driver, never M.
  All years on this path advance together: one Spark job per step.

``auto`` picks ``country_blocks`` for years whose countries x products exceed
``max_cells_per_task``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lib.config import FitnessConfig
from lib.matrices import (
    active_masks,
    descending_rank,
    expand,
    frame_to_spark,
    per_year_tables,
    safe_log10,
    year_matrix,
)
from lib.tables import spark_schema

COUNTRY_SCHEMA = spark_schema(
    "country_year", ["year", "country_code", "fitness", "log10_fitness", "fitness_rank"]
)
PRODUCT_SCHEMA = spark_schema(
    "product_year", ["year", "product", "complexity", "log10_complexity", "complexity_rank"]
)
CONVERGENCE_SCHEMA = spark_schema("fitness_convergence")
SCHEMAS = {"country": COUNTRY_SCHEMA, "product": PRODUCT_SCHEMA, "convergence": CONVERGENCE_SCHEMA}

PER_YEAR = "per_year"
COUNTRY_BLOCKS = "country_blocks"


@dataclass(frozen=True)
class FitnessResult:
    """Full-length vectors (NaN on inactive countries / products) and the stopping record."""

    fitness: np.ndarray
    complexity: np.ndarray
    iterations: int  # updates performed
    final_change: float  # change of the last update (NaN if none)


# Vectors per key (a year): F and Q (full length) -> partial results F~ and sum_c M_cp / F_c.
Vectors = Mapping[Hashable, tuple[np.ndarray, np.ndarray]]
PartialsFn = Callable[[Vectors], Mapping[Hashable, tuple[np.ndarray, np.ndarray]]]


# --- the driver loop shared by both paths --------------------------------------------------


def iterate_fitness(
    masks: Mapping[Hashable, tuple[np.ndarray, np.ndarray]],
    partials: PartialsFn,
    max_iterations: int,
    tolerance: float,
) -> dict[Hashable, FitnessResult]:
    """Run the Fitness-Complexity map for several matrices at once.

    ``masks[key]`` = (active countries, active products). ``partials(vectors)`` returns, for each
    key it is given, F~ = M Q and s = M^T (1/F) as full-length arrays. Only the entries at active
    positions are read, and only M's 1-entries (all at active positions) feed them, so the NaN at
    inactive positions never propagate.
    """
    state: dict[Hashable, list] = {}
    for key, (ac, ap) in masks.items():
        F_full = np.where(ac, 1.0, np.nan)
        Q_full = np.where(ap, 1.0, np.nan)
        state[key] = [F_full, Q_full, 0, np.nan]
    # WHY: with every entry active (the dense per-year core) the gather / scatter through the
    # masks is skipped: 30 HS6 years' Fitness 1.98 s instead of 2.09 s single-threaded.
    all_active = {k: bool(ac.all() and ap.all()) for k, (ac, ap) in masks.items()}
    running = [k for k, (ac, ap) in masks.items() if ac.any() and ap.any()]

    for step in range(1, max_iterations + 1):
        if not running:
            break
        partial = partials({k: (state[k][0], state[k][1]) for k in running})
        still_running = []
        for key in running:
            ac, ap = masks[key]
            f_tilde, col_sums = partial[key]
            if all_active[key]:
                F_prev, Q_prev = state[key][0], state[key][1]
            else:
                F_prev, Q_prev = state[key][0][ac], state[key][1][ap]
                f_tilde, col_sums = f_tilde[ac], col_sums[ap]
            F_new, Q_new = _normalised_update(f_tilde, col_sums)
            if not (_usable(F_new) and _usable(Q_new)):
                continue  # underflow: keep the last finite iterate and stop this key
            change = max(np.max(np.abs(F_new - F_prev)), np.max(np.abs(Q_new - Q_prev)))
            if all_active[key]:
                state[key][0], state[key][1] = F_new, Q_new
            else:
                state[key][0], state[key][1] = expand(F_new, ac), expand(Q_new, ap)
            state[key][2] = step
            state[key][3] = float(change)
            if not (tolerance > 0 and change < tolerance):
                still_running.append(key)
        running = still_running

    return {k: FitnessResult(s[0], s[1], s[2], s[3]) for k, s in state.items()}


def _normalised_update(f_tilde: np.ndarray, col_sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F = F~ / mean(F~); Q~ = 1 / s; Q = Q~ / mean(Q~)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        F_new = f_tilde / f_tilde.mean()
        q_tilde = 1.0 / col_sums
        Q_new = q_tilde / q_tilde.mean()
    return F_new, Q_new


def _usable(values: np.ndarray) -> bool:
    """All finite and > 0 (NaN fails both comparisons)."""
    return bool(values.min() > 0 and values.max() < np.inf)


# --- numpy cores ---------------------------------------------------------------------------


def fitness_complexity_matrix(
    M: np.ndarray, max_iterations: int, tolerance: float = 0.0
) -> FitnessResult:
    """Fitness and Complexity of one 0/1 matrix (countries x products); non-zero entries count
    as 1. Inactive rows / columns (all zero) get NaN and do not take part in the means.

    WHY dense products: a year's M fits in memory (at most ~250 x 5,000), and two BLAS
    mat-vecs per step are 4x faster than ``np.bincount`` over the 1-entries (the kernel of the
    country_blocks path): 0.08 s against 0.31 s for 200 steps on 227 x 4,927 with 12 % ones,
    measured on the project machine. Same driver loop as the other path.
    """
    M = np.asarray(M)
    ac, ap = active_masks(M)
    sub = (M[np.ix_(ac, ap)] != 0).astype(np.float64)
    masks = {0: (np.ones(int(ac.sum()), bool), np.ones(int(ap.sum()), bool))}

    def dense_partials(vectors: Vectors) -> dict:
        F_vec, Q_vec = vectors[0]
        return {0: (sub @ Q_vec, sub.T @ (1.0 / F_vec))}

    res = iterate_fitness(masks, dense_partials, max_iterations, tolerance)[0]
    return FitnessResult(
        expand(res.fitness, ac), expand(res.complexity, ap), res.iterations, res.final_change
    )


Block = tuple[Hashable, np.ndarray, np.ndarray]  # (key, country indices, product indices) of 1s


def block_partials(blocks: Iterable[Block], vectors: Vectors) -> dict:
    """One step's contribution of some blocks: F~ rows and partial column sums, per key.

    F~_c = sum_p M_cp Q_p only for the block's own rows (zeros elsewhere, so summing the blocks
    assembles F~); s_p = sum_{c in block} M_cp / F_c.
    """
    out: dict = {}
    for key, rows, cols in blocks:
        vec = vectors.get(key)
        if vec is None:
            continue
        F_vec, Q_vec = vec
        f_tilde = np.bincount(rows, weights=Q_vec[cols], minlength=F_vec.size)
        col_sums = np.bincount(cols, weights=1.0 / F_vec[rows], minlength=Q_vec.size)
        if key in out:
            out[key] = (out[key][0] + f_tilde, out[key][1] + col_sums)
        else:
            out[key] = (f_tilde, col_sums)
    return out


def merge_partials(a: dict, b: dict) -> dict:
    """Sum two partial results key by key (associative and commutative: fit for treeReduce)."""
    out = dict(a)
    for key, (f_tilde, col_sums) in b.items():
        if key in out:
            out[key] = (out[key][0] + f_tilde, out[key][1] + col_sums)
        else:
            out[key] = (f_tilde, col_sums)
    return out


def matrix_blocks(M: np.ndarray, block_size: int, key: Hashable = 0) -> list[Block]:
    """Split the 1-entries of M into blocks of ``block_size`` consecutive rows."""
    rows, cols = np.nonzero(np.asarray(M))
    blocks = []
    for start in range(0, M.shape[0], block_size):
        sel = (rows >= start) & (rows < start + block_size)
        if sel.any():
            blocks.append((key, rows[sel].astype(np.int64), cols[sel].astype(np.int64)))
    return blocks


def fitness_complexity_blocks(
    M: np.ndarray, max_iterations: int, tolerance: float = 0.0, block_size: int = 64
) -> FitnessResult:
    """The country_blocks algorithm run locally (numpy emulation of the Spark path): same block
    partials, same merge, same driver loop; the blocks are a list instead of a cached RDD."""
    M = np.asarray(M, dtype=np.float64)
    blocks = matrix_blocks(M, block_size)

    def local_partials(vectors: Vectors):
        out: dict = {}
        for block in blocks:  # one "partition" per block, then merged as treeReduce would
            out = merge_partials(out, block_partials([block], vectors))
        return out

    return iterate_fitness({0: active_masks(M)}, local_partials, max_iterations, tolerance)[0]


# --- output frames -------------------------------------------------------------------------


def _country_frame(year: int, countries: np.ndarray, fitness: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": np.full(countries.size, year, dtype=np.int32),
            "country_code": countries.astype(np.int32),
            "fitness": fitness,
            "log10_fitness": safe_log10(fitness),
            "fitness_rank": descending_rank(fitness),
        }
    )


def _product_frame(year: int, products: np.ndarray, complexity: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": np.full(products.size, year, dtype=np.int32),
            "product": products.astype(object),
            "complexity": complexity,
            "log10_complexity": safe_log10(complexity),
            "complexity_rank": descending_rank(complexity),
        }
    )


def _convergence_frame(year: int, res: FitnessResult, execution: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [year],
            "iterations": [res.iterations],
            "final_change": [res.final_change],
            "execution": [execution],
        }
    )


# --- Spark ---------------------------------------------------------------------------------


def fitness_complexity(
    mcp: DataFrame, cfg: FitnessConfig | None = None
) -> tuple[DataFrame, DataFrame, DataFrame]:
    """Fitness of countries and Complexity of products per year, from the long ``mcp`` rows.

    Returns (country, product, convergence):

    - country: year, country_code, fitness, log10_fitness, fitness_rank (1 = fittest)
    - product: year, product, complexity, log10_complexity, complexity_rank (1 = most complex)
    - convergence: year, iterations, final_change, execution ("per_year" / "country_blocks")

    Zero-diversity countries and zero-ubiquity products get NULL values and ranks and do not
    affect the others. ``execution = "auto"`` runs a small aggregation (matrix size per year)
    at call time; ``country_blocks`` years are iterated at call time (one job per step).
    """
    cfg = cfg or FitnessConfig()
    rows = mcp.select(
        F.col("year").cast("int"),
        F.col("country_code").cast("int"),
        F.col("product").cast("string"),
        F.col("mcp").cast("int"),
    )
    block_years = _block_years(rows, cfg)

    parts: list[dict[str, DataFrame]] = []
    if cfg.execution != COUNTRY_BLOCKS or not block_years:
        per_year_rows = rows.filter(~F.col("year").isin(block_years)) if block_years else rows
        parts.append(_fitness_per_year(per_year_rows, cfg))
    if block_years:
        parts.append(_fitness_country_blocks(rows.filter(F.col("year").isin(block_years)), cfg))

    def union(name: str) -> DataFrame:
        frames = [p[name] for p in parts]
        out = frames[0]
        for frame in frames[1:]:
            out = out.unionByName(frame)
        return out

    return union("country"), union("product"), union("convergence")


def _block_years(rows: DataFrame, cfg: FitnessConfig) -> list[int]:
    if cfg.execution == PER_YEAR:
        return []
    sizes = rows.groupBy("year").agg(
        (F.countDistinct("country_code").cast("long") * F.countDistinct("product")).alias("cells")
    )
    if cfg.execution == COUNTRY_BLOCKS:
        return sorted(r["year"] for r in sizes.select("year").collect())
    return sorted(
        r["year"] for r in sizes.filter(F.col("cells") > cfg.max_cells_per_task).collect()
    )


def _fitness_per_year(rows: DataFrame, cfg: FitnessConfig) -> dict[str, DataFrame]:
    max_iterations, tolerance = cfg.max_iterations, cfg.tolerance

    def compute(year: int, pdf: pd.DataFrame) -> dict[str, pd.DataFrame]:
        ym = year_matrix(pdf)
        res = fitness_complexity_matrix(ym.M, max_iterations, tolerance)
        return {
            "country": _country_frame(year, ym.countries, res.fitness),
            "product": _product_frame(year, ym.products, res.complexity),
            "convergence": _convergence_frame(year, res, PER_YEAR),
        }

    return per_year_tables(rows, compute, SCHEMAS)


def _fitness_country_blocks(rows: DataFrame, cfg: FitnessConfig) -> dict[str, DataFrame]:
    # Read three times (two index vectors, the 1-entries): keep it for the duration of the call.
    rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        return _iterate_country_blocks(rows, cfg)
    finally:
        rows.unpersist()


def _iterate_country_blocks(rows: DataFrame, cfg: FitnessConfig) -> dict[str, DataFrame]:
    spark = rows.sparkSession
    sc = spark.sparkContext

    # Index arrays per year: vectors (countries, products), small enough for the driver.
    countries = _codes(rows, "country_code")
    products = _codes(rows, "product")
    masks = {y: (countries[y][1], products[y][1]) for y in countries}

    c_index = _index_frame(spark, countries, "country_code", T.IntegerType(), "c")
    p_index = _index_frame(spark, products, "product", T.StringType(), "p")
    size = cfg.country_block_size
    ones = (
        rows.filter(F.col("mcp") == 1)
        .join(F.broadcast(c_index), ["year", "country_code"])
        .join(F.broadcast(p_index), ["year", "product"])
    )
    # One long per 1-entry (c << 32 | p): a single collect_list, decoded with numpy.
    packed = ones.groupBy("year", (F.col("c") / size).cast("int").alias("block")).agg(
        F.collect_list(F.shiftleft(F.col("c").cast("long"), 32) + F.col("p")).alias("cells")
    )
    blocks = packed.rdd.map(_unpack_block).persist(StorageLevel.MEMORY_AND_DISK)

    def spark_partials(vectors: Vectors):
        shared = sc.broadcast(dict(vectors))
        try:
            return blocks.mapPartitions(lambda it: [block_partials(it, shared.value)]).treeReduce(
                merge_partials, depth=2
            )
        finally:
            shared.unpersist()

    try:
        results = iterate_fitness(masks, spark_partials, cfg.max_iterations, cfg.tolerance)
    finally:
        blocks.unpersist()

    frames = {name: [] for name in SCHEMAS}
    for year, res in sorted(results.items()):
        frames["country"].append(_country_frame(year, countries[year][0], res.fitness))
        frames["product"].append(_product_frame(year, products[year][0], res.complexity))
        frames["convergence"].append(_convergence_frame(year, res, COUNTRY_BLOCKS))
    return {
        name: frame_to_spark(spark, pd.concat(frames[name]), SCHEMAS[name])
        if frames[name]
        else spark.createDataFrame([], SCHEMAS[name])
        for name in SCHEMAS
    }


def _codes(rows: DataFrame, column: str) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per year: sorted codes and their active mask (any mcp = 1)."""
    pdf = rows.groupBy("year", column).agg(F.max("mcp").alias("active")).toArrow().to_pandas()
    out = {}
    for year, group in pdf.groupby("year"):
        group = group.sort_values(column)
        codes = group[column].to_numpy()
        out[int(year)] = (codes, group["active"].to_numpy() == 1)
    return out


def _index_frame(
    spark: SparkSession, codes: dict, column: str, data_type: T.DataType, index: str
) -> DataFrame:
    records = [
        (int(year), code.item() if hasattr(code, "item") else code, i)
        for year, (values, _) in codes.items()
        for i, code in enumerate(values)
    ]
    schema = T.StructType(
        [
            T.StructField("year", T.IntegerType(), False),
            T.StructField(column, data_type, False),
            T.StructField(index, T.IntegerType(), False),
        ]
    )
    return spark.createDataFrame(records, schema)


def _unpack_block(row) -> Block:
    cells = np.asarray(row["cells"], dtype=np.int64)
    return row["year"], cells >> 32, cells & 0xFFFFFFFF
