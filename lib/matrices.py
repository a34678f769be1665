"""One year's country x product matrix: long rows <-> dense numpy M, and per-year Spark plumbing.

Every indicator (Fitness, ECI/PCI, proximity, density) is a small linear-algebra problem per year:
M is at most ~250 countries x ~5,000 products (HS6), i.e. ~10 MB of float64. So each year is
handled inside one Spark task as a dense numpy matrix (``groupBy("year").applyInPandas``), never on
the driver. Only the Fitness "country_blocks" path splits one year across tasks (see
``lib.fitness``).

Rows follow the input contract of the indicators: ``year, country_code, product, mcp`` with one row
per (year, country, product) that has positive exports. Pairs without exports are absent and mean
M_cp = 0. A country whose rows all have mcp = 0 (zero diversity) or a product that no country has
(zero ubiquity) is *inactive*: it stays in the index arrays, so that it is reported (as NULL), but
is left out of every computation. WHY: a zero row or column makes D^-1 or U^-1 undefined; the
peer tools either drop such rows silently or let one of them turn the whole year into NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

TABLE_COLUMN = "_table"


@dataclass(frozen=True)
class YearMatrix:
    """Dense M (countries x products) with the codes of its rows and columns.

    ``countries`` (int64) and ``products`` (str, object array) are sorted ascending, so the layout
    of a year is deterministic whatever the order of the rows.
    """

    countries: np.ndarray
    products: np.ndarray
    M: np.ndarray  # float64, shape (len(countries), len(products))

    @property
    def diversity(self) -> np.ndarray:
        """k_c = sum_p M_cp."""
        return self.M.sum(axis=1)

    @property
    def ubiquity(self) -> np.ndarray:
        """k_p = sum_c M_cp."""
        return self.M.sum(axis=0)

    @property
    def active_countries(self) -> np.ndarray:
        """Boolean mask of countries with diversity > 0."""
        return self.diversity > 0

    @property
    def active_products(self) -> np.ndarray:
        """Boolean mask of products with ubiquity > 0."""
        return self.ubiquity > 0


def active_masks(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(countries with a non-zero row, products with a non-zero column) of a 0/1 matrix."""
    M = np.asarray(M)
    return M.sum(axis=1) > 0, M.sum(axis=0) > 0


def largest_component(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the countries and products in the largest connected component of the bipartite
    country-product graph (edges: M_cp = 1); inactive rows / columns are never in it.

    Min-label propagation: each product takes the smallest label of its countries, each country
    the smallest label of its products, until stable (a few passes: the graph's diameter).
    Largest = most countries (ties: most products, then the first).
    """
    B = np.asarray(M) > 0
    ac, ap = B.any(axis=1), B.any(axis=0)
    n_c = B.shape[0]
    none = n_c  # label of inactive entries, larger than any real label
    label = np.where(ac, np.arange(n_c), none)
    while True:
        p_label = np.where(B, label[:, None], none).min(axis=0, initial=none)
        new = np.minimum(label, np.where(B, p_label[None, :], none).min(axis=1, initial=none))
        if np.array_equal(new, label):
            break
        label = new
    if not ac.any():
        return ac, ap
    labels, n_countries = np.unique(label[ac], return_counts=True)
    n_products = np.array([(p_label == lab).sum() for lab in labels])
    best = labels[np.lexsort((n_products, n_countries))[-1]]
    return label == best, p_label == best


def expand(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Scatter values computed on the active entries back to full length, NaN elsewhere."""
    out = np.full(mask.shape[0], np.nan)
    out[mask] = values
    return out


def expand_matrix(values: np.ndarray, row_mask: np.ndarray, col_mask: np.ndarray) -> np.ndarray:
    """Scatter an active-rows x active-columns matrix back to full shape, NaN elsewhere."""
    out = np.full((row_mask.shape[0], col_mask.shape[0]), np.nan)
    out[np.ix_(row_mask, col_mask)] = values
    return out


def year_matrix(rows: pd.DataFrame, value: str = "mcp") -> YearMatrix:
    """Pivot one year's long rows (``country_code, product, <value>``) into a dense YearMatrix.

    Absent pairs are 0. Raises ValueError on a duplicated (country, product) pair, which would
    otherwise be summed silently into M_cp = 2.
    """
    # pandas' hash-based factorize: ~10x faster than np.unique on a million product strings.
    c_idx, countries = pd.factorize(rows["country_code"].astype(np.int64), sort=True)
    p_idx, products = pd.factorize(rows["product"].astype(str), sort=True)
    n_c, n_p = len(countries), len(products)
    flat = c_idx.astype(np.int64) * n_p + p_idx
    if flat.size and np.bincount(flat, minlength=n_c * n_p).max() > 1:
        raise ValueError("duplicated (country_code, product) rows within one year")
    M = np.zeros(n_c * n_p)
    M[flat] = rows[value].to_numpy(dtype=np.float64)
    return YearMatrix(
        np.asarray(countries, dtype=np.int64),
        np.asarray(products, dtype=object),
        M.reshape(n_c, n_p),
    )


def long_rows(ym: YearMatrix, value: str = "mcp", keep_zeros: bool = False) -> pd.DataFrame:
    """The inverse of ``year_matrix``: ``country_code, product, <value>`` for the non-zero cells
    (or for every cell of the grid with ``keep_zeros``)."""
    ci, pi = np.nonzero(np.ones_like(ym.M, dtype=bool) if keep_zeros else ym.M)
    return pd.DataFrame(
        {"country_code": ym.countries[ci], "product": ym.products[pi], value: ym.M[ci, pi]}
    )


def grid_frame(ym: YearMatrix, year: int, **matrices: np.ndarray) -> pd.DataFrame:
    """Long frame over the whole country x product grid of the year: ``year, country_code,
    product`` and one column per (countries x products) matrix given."""
    n_c, n_p = ym.M.shape
    frame = pd.DataFrame(
        {
            "year": np.full(n_c * n_p, year, dtype=np.int32),
            "country_code": np.repeat(ym.countries, n_p),
            "product": np.tile(ym.products, n_c),
        }
    )
    for name, matrix in matrices.items():
        frame[name] = np.asarray(matrix, dtype=np.float64).reshape(-1)
    return frame


def descending_rank(values: np.ndarray) -> pd.Series:
    """Rank 1 = largest; ties share the best rank ("min"); NaN -> <NA> (null in Spark)."""
    return pd.Series(values).rank(method="min", ascending=False, na_option="keep").astype("Int32")


def safe_log10(values: np.ndarray) -> np.ndarray:
    """log10 of positive finite values, NaN otherwise (a fitness that underflowed to 0 -> NULL)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    ok = np.isfinite(values) & (values > 0)
    out[ok] = np.log10(values[ok])
    return out


# --- Spark plumbing ----------------------------------------------------------------------------


def _pandas_dtype(data_type: T.DataType) -> str | None:
    if isinstance(data_type, T.IntegerType):
        return "Int32"
    if isinstance(data_type, T.LongType):
        return "Int64"
    if isinstance(data_type, T.DoubleType):
        return "float64"
    if isinstance(data_type, T.StringType):
        # WHY: a column missing from a year's frames is all-NaN float64, which pyarrow turns
        # into a chunked array for a string field (pyspark's conversion then fails).
        return "object"
    return None


def _combined_schema(schemas: Mapping[str, T.StructType]) -> T.StructType:
    fields: dict[str, T.StructField] = {}
    for name, schema in schemas.items():
        for f in schema.fields:
            known = fields.get(f.name)
            if known is not None and known.dataType != f.dataType:
                raise ValueError(f"column {f.name!r} of table {name!r} changes type between tables")
            fields[f.name] = T.StructField(f.name, f.dataType, True)
    return T.StructType([T.StructField(TABLE_COLUMN, T.StringType(), False), *fields.values()])


def per_year_tables(
    rows: DataFrame,
    compute: Callable[[int, pd.DataFrame], Mapping[str, pd.DataFrame]],
    schemas: Mapping[str, T.StructType],
) -> dict[str, DataFrame]:
    """Run ``compute(year, rows_of_that_year)`` once per year in an executor; return its tables.

    ``compute`` returns one pandas frame per table name of ``schemas``. The frames travel as one
    tagged Arrow stream (a ``_table`` column plus the union of the columns); with several tables
    it is local-checkpointed lazily: the first action computes every year once and the split
    tables reuse it. WHY: each indicator yields several tables (country, product, convergence) and
    applyInPandas has a single output schema; running it once per table would redo the work.
    A single table is returned as computed (no tag, no checkpoint): it may be large (a year's
    proximity pairs) and is read once, by its writer.
    NaN in a double column becomes NULL (Arrow conversion masks NaN).
    """
    if len(schemas) == 1:  # one table: its own schema, no tag, nothing to keep
        ((name, schema),) = schemas.items()
        columns = schema.fieldNames()
        dtypes = {f.name: _pandas_dtype(f.dataType) for f in schema.fields}

        def _single(pdf: pd.DataFrame) -> pd.DataFrame:
            return _conformed(compute(int(pdf["year"].iloc[0]), pdf)[name], columns, dtypes)

        return {name: rows.groupBy("year").applyInPandas(_single, schema)}

    combined = _combined_schema(schemas)
    columns = [f.name for f in combined.fields]
    dtypes = {f.name: _pandas_dtype(f.dataType) for f in combined.fields}

    def _apply(pdf: pd.DataFrame) -> pd.DataFrame:
        year = int(pdf["year"].iloc[0])
        frames = []
        for name, frame in compute(year, pdf).items():
            frame = frame.copy()
            frame[TABLE_COLUMN] = name
            frames.append(frame)
        return _conformed(pd.concat(frames, ignore_index=True), columns, dtypes)

    tagged = rows.groupBy("year").applyInPandas(_apply, combined).localCheckpoint(eager=False)
    return {
        name: tagged.filter(F.col(TABLE_COLUMN) == name).select(*schema.fieldNames())
        for name, schema in schemas.items()
    }


def _conformed(frame: pd.DataFrame, columns: list[str], dtypes: dict) -> pd.DataFrame:
    """The frame with exactly these columns, integer columns nullable (Int32 / Int64), string
    columns that are all missing (float NaN) as objects."""
    out = frame.reindex(columns=columns)
    for column, dtype in dtypes.items():
        if dtype == "object":
            if out[column].dtype.kind == "f":  # Arrow-backed strings stay as they are
                out[column] = out[column].astype(object)
        elif dtype is not None and str(out[column].dtype) != dtype:
            out[column] = out[column].astype(dtype)
    return out


def frame_to_spark(spark: SparkSession, frame: pd.DataFrame, schema: T.StructType) -> DataFrame:
    """A small driver-side pandas frame (vectors, never a matrix) as a Spark DataFrame.

    NaN and <NA> become NULL, numpy scalars become Python ones (Spark's type checks want them).
    """
    columns = []
    for name in schema.fieldNames():
        columns.append([None if pd.isna(v) else v for v in frame[name].tolist()])
    return spark.createDataFrame(list(zip(*columns, strict=True)), schema)
