"""Sector mappings (HS code -> sector) and sector-level revealed comparative advantage.

The report ("Gathering strength", IPPR 2014, figures 3.1-3.6) reads RCA at the level of ~15 broad
goods sectors, not of the ~1,200 products the indicators use. Sector RCA is therefore computed
from the raw flows (HS6) mapped to sectors, with the same erratic-item exclusion as the
indicators, and with the project's Balassa RCA (``lib.measures.rca``) applied to sectors instead of
products.

Mappings are CSV files with one code column (``hs6``, ``hs4`` or ``hs2``; codes are strings with
leading zeros) and one sector column. Two ship in ``conf/sectors/``: ``hs_sections`` (the 21 WCO
sections) and ``goods15`` (our approximation of the report's 15 goods sectors, see
``docs/report.md``). A user file may hold several code columns and several candidate sector
columns (as ``tests/data/mappings/hs92_hs6_atlas_sectors.csv``): the most detailed code
column is the key, and a coarser code column is used as a fallback only for codes whose sector is
the same for every row of the file (so an HS6 table also maps a new HS6 code of a known chapter).
Products that no rule maps go to the sector ``UNMAPPED``: they stay in the totals, so shares and
RCAs are over all (non-erratic) goods exports, but figures and counts leave that sector out.

Must not compute RCA itself: sector RCA calls ``lib.measures.rca``, the one implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lib.execution.exports import exclude_erratic_items
from lib.measures.rca import binary_presence, revealed_comparative_advantage
from lib.run.config import CONF_DIR, ProductsConfig, RcaConfig

SECTORS_DIR = CONF_DIR / "sectors"
BUILTIN_SCHEMES = ("goods15", "hs_sections")
KEY_COLUMNS = ("hs6", "hs4", "hs2")  # most detailed first
UNMAPPED = "(unmapped)"


class SectorMappingError(ValueError):
    """A mapping file that cannot be used; raised before any Spark work."""


@dataclass(frozen=True)
class SectorMapping:
    """``rules``: one row per (digits, code) -> sector; ``sectors`` in display order."""

    scheme: str
    rules: pd.DataFrame  # columns digits (int), code (str), sector (str)
    sectors: tuple[str, ...]

    @cached_property
    def _lookup(self) -> dict[tuple[int, str], str]:
        return {(int(d), str(c)): str(s) for d, c, s in self.rules.itertuples(index=False)}

    def sector_of(self, product: str) -> str:
        """The sector of one HS6 code (pure Python; the Spark path does the same with joins)."""
        for digits in (6, 4, 2):
            sector = self._lookup.get((digits, product[:digits]))
            if sector is not None:
                return sector
        return UNMAPPED


def load_sector_mapping(spec: str, column: str = "") -> SectorMapping:
    """``goods15``, ``hs_sections`` or a CSV path (``column`` names its sector column)."""
    if spec in BUILTIN_SCHEMES:
        return read_mapping_csv(SECTORS_DIR / f"{spec}.csv", "sector", scheme=spec)
    path = Path(spec)
    if not path.is_file():
        raise SectorMappingError(
            f"sector scheme '{spec}' is neither a built-in ({', '.join(BUILTIN_SCHEMES)}) "
            "nor an existing CSV file"
        )
    return read_mapping_csv(path, column)


def read_mapping_csv(path: Path, column: str = "", scheme: str = "") -> SectorMapping:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    keys = [c for c in KEY_COLUMNS if c in frame.columns]
    if not keys:
        raise SectorMappingError(f"{path}: needs a code column hs6, hs4 or hs2")
    column = column or _default_sector_column(path, frame, keys)
    if column not in frame.columns:
        raise SectorMappingError(
            f"{path}: no column '{column}'; columns are {', '.join(frame.columns)}"
        )
    frame = frame.assign(sector=frame[column].str.strip())
    frame = frame[frame.sector != ""]  # e.g. chapter 99 has no HS section
    if frame.empty:
        raise SectorMappingError(f"{path}: column '{column}' maps no code to a sector")
    rules = [_rules_for_key(path, frame, key, primary=(key == keys[0])) for key in keys]
    scheme = scheme or (f"{path.stem}.{column}" if column != "sector" else path.stem)
    sectors = tuple(dict.fromkeys(frame.sector))
    return SectorMapping(scheme, pd.concat(rules, ignore_index=True), sectors)


def _default_sector_column(path: Path, frame: pd.DataFrame, keys: list[str]) -> str:
    if "sector" in frame.columns:
        return "sector"
    others = [c for c in frame.columns if c not in KEY_COLUMNS]
    if len(others) == 1:
        return others[0]
    raise SectorMappingError(
        f"{path}: several candidate sector columns ({', '.join(others)}); choose one "
        "(--sector-column / report.sector_column)"
    )


def _rules_for_key(path: Path, frame: pd.DataFrame, key: str, primary: bool) -> pd.DataFrame:
    digits = int(key[2:])
    codes = frame[key].str.strip()
    if primary:
        bad = codes[~codes.str.fullmatch(rf"[0-9A-Za-z]{{{digits}}}")]
        if len(bad):
            raise SectorMappingError(
                f"{path}: {key} codes must have {digits} characters with leading zeros, "
                f"e.g. '{bad.iloc[0]}' is not"
            )
    pairs = pd.DataFrame({"code": codes, "sector": frame.sector})
    pairs = pairs[pairs.code.str.len() == digits].drop_duplicates()
    per_code = pairs.groupby("code").sector.nunique()
    ambiguous = per_code[per_code > 1]
    if primary and len(ambiguous):
        raise SectorMappingError(
            f"{path}: {key} code {ambiguous.index[0]} is mapped to several sectors"
        )
    # A coarser column is a fallback only where every finer row of the code agrees.
    pairs = pairs[pairs.code.isin(per_code[per_code == 1].index)]
    return pairs.assign(digits=digits)[["digits", "code", "sector"]]


# --- Spark: flows -> sector exports -> sector RCA ------------------------------------------


def product_sectors(products: DataFrame, mapping: SectorMapping) -> DataFrame:
    """(product) -> (product, sector): the most detailed matching rule wins."""
    spark = products.sparkSession
    rules = spark.createDataFrame(mapping.rules, "digits int, code string, sector string")
    result = products.select("product").distinct()
    candidates = []
    for digits in sorted(set(mapping.rules.digits), reverse=True):
        level = rules.where(F.col("digits") == digits).select(
            F.col("code").alias(f"_code{digits}"), F.col("sector").alias(f"_sector{digits}")
        )
        result = result.join(
            F.broadcast(level), F.substring("product", 1, digits) == F.col(f"_code{digits}"), "left"
        ).drop(f"_code{digits}")
        candidates.append(F.col(f"_sector{digits}"))
    return result.select("product", F.coalesce(*candidates, F.lit(UNMAPPED)).alias("sector"))


def sector_exports(flows: DataFrame, mapping: SectorMapping, products: ProductsConfig) -> DataFrame:
    """Flows -> (year, country_code, sector, export_value), erratic items left out as configured."""
    chapters = products.erratic_chapters if products.exclude_erratic else ()
    by_product = (
        flows.transform(exclude_erratic_items(chapters, products.exclude_unspecified))
        .groupBy("year", F.col("exporter").alias("country_code"), "product")
        .agg(F.sum("value").alias("export_value"))
    )
    sectors = product_sectors(by_product, mapping)
    return (
        by_product.join(F.broadcast(sectors), "product")
        .groupBy("year", "country_code", "sector")
        .agg(F.sum("export_value").alias("export_value"))
        .where(F.col("export_value") > 0)
    )


SECTOR_RCA_SCHEMA = T.StructType(
    [
        T.StructField("year", T.IntegerType()),
        T.StructField("country_code", T.IntegerType()),
        T.StructField("sector_scheme", T.StringType()),
        T.StructField("sector", T.StringType()),
        T.StructField("sector_kind", T.StringType()),
        T.StructField("export_value", T.DoubleType()),
        T.StructField("country_export_value", T.DoubleType()),
        T.StructField("share", T.DoubleType()),
        T.StructField("world_share", T.DoubleType()),
        T.StructField("rca", T.DoubleType()),
        T.StructField("has_advantage", T.BooleanType()),
    ]
)


def sector_rca(exports: DataFrame, scheme: str, rca: RcaConfig) -> DataFrame:
    """(year, country_code, sector, export_value[, sector_kind]) -> the ``sector_year`` rows.

    Every sector present in a year gets a row for every exporting country of that year (zero
    exports -> share 0, RCA 0), so trends and comparisons need no gap filling downstream. The
    RCA is ``lib.measures.rca``'s, on each year's country x sector matrix (a small one: one task a year).
    """
    if "sector_kind" not in exports.columns:
        exports = exports.withColumn("sector_kind", F.lit("goods"))
    columns = ["year", "country_code", "sector", "sector_kind", "export_value"]

    def one_year(rows: pd.DataFrame) -> pd.DataFrame:
        return year_sector_rca(rows, scheme, rca.threshold, rca.strict)

    return exports.select(*columns).groupBy("year").applyInPandas(one_year, SECTOR_RCA_SCHEMA)


def year_sector_rca(
    rows: pd.DataFrame, scheme: str, threshold: float, strict: bool
) -> pd.DataFrame:
    """One year's sector rows (year, country_code, sector, sector_kind, export_value) -> the
    ``sector_year`` rows of every exporting country x every sector of the year."""
    X = rows.pivot_table(
        index="country_code", columns="sector", values="export_value", aggfunc="sum", fill_value=0.0
    )
    kinds = rows.drop_duplicates("sector").set_index("sector")["sector_kind"]
    values = X.to_numpy(dtype=np.float64)
    rca_values, _ = revealed_comparative_advantage(values)
    present = binary_presence(rca_values, threshold, strict) > 0
    country_total = values.sum(axis=1)[:, None]
    world_share = values.sum(axis=0) / values.sum()
    n_c, n_s = values.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(country_total > 0, values / country_total, 0.0)
    sectors = np.tile(X.columns.to_numpy(dtype=object), n_c)
    return pd.DataFrame(
        {
            "year": int(rows["year"].iloc[0]),
            "country_code": np.repeat(X.index.to_numpy(dtype=np.int64), n_s),
            "sector_scheme": scheme,
            "sector": sectors,
            "sector_kind": kinds.reindex(sectors).to_numpy(),
            "export_value": values.reshape(-1),
            "country_export_value": np.repeat(country_total[:, 0], n_s),
            "share": share.reshape(-1),
            "world_share": np.tile(world_share, n_c),
            "rca": rca_values.reshape(-1),
            "has_advantage": present.reshape(-1) & (sectors != UNMAPPED),
        }
    )
