"""The real reference datasets of ../shared as the pipeline's inputs (used by several tests).

- the Growth Lab's py-ecomplexity / Stata fixture (``cid_py_ecomplexity``): a trade sample with
  Stata's ECI, PCI, COI, density and COG;
- the R package economiccomplexity's world trade 1998-2000 (``economiccomplexity_r``) with its
  stored M and Fitness.

Countries are mapped to integer codes (sorted names -> 0, 1, ...), as BACI codes are integers.
"""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame, SparkSession

from lib.rca import binary_presence, revealed_comparative_advantage
from tests.conftest import shared_path

CID_DIR = ("data", "real", "cid_py_ecomplexity")
R_DIR = ("data", "real", "economiccomplexity_r")


def _exports(spark, year, countries: pd.Series, products: pd.Series, values: pd.Series):
    codes = {c: i for i, c in enumerate(sorted(countries.unique()))}
    frame = pd.DataFrame(
        {
            "year": year,
            "country_code": countries.map(codes).astype("int32"),
            "product": products,
            "export_value": values.astype(float),
        }
    )
    return spark.createDataFrame(frame), codes


def presence(exports: DataFrame) -> DataFrame:
    """RCA and M (RCA >= 1, the peer tools' convention) by lib.rca."""
    return exports.transform(revealed_comparative_advantage).transform(
        binary_presence(1.0, strict=False)
    )


def stata_fixture_trade() -> pd.DataFrame:
    return pd.read_csv(shared_path(*CID_DIR, "trade_data_sample.csv"), dtype={"hs92": str})


def stata_fixture_exports(spark: SparkSession) -> tuple[DataFrame, dict[str, int]]:
    """The Stata fixture's trade sample as exports rows, and the country codes used."""
    trade = stata_fixture_trade()
    return _exports(
        spark,
        trade["year"].astype("int32"),
        trade["origin"],
        trade["hs92"],
        trade["export_val"],
    )


def r_package_exports(spark: SparkSession) -> tuple[DataFrame, dict[str, int]]:
    """The R package's world trade (average 1998-2000) as exports rows of year 2000."""
    trade = pd.read_csv(
        shared_path(*R_DIR, "world_trade_avg_1998_to_2000.csv"), dtype={"product": str}
    )
    return _exports(spark, 2000, trade["country"], trade["product"], trade["value"])
