"""The real reference datasets as the pipeline's inputs, run through the production yearly core.

- the Growth Lab's py-ecomplexity / Stata fixture (``cid_py_ecomplexity``): a trade sample with
  Stata's ECI, PCI, COI, density and COG;
- the R package economiccomplexity's world trade 1998-2000 (``economiccomplexity_r``) with its
  stored M and Fitness.

Countries are mapped to integer codes (sorted names -> 0, 1, ...), as BACI codes are integers.
``yearly_core`` runs exactly what the job's yearly task runs (``lib.measures.yearly``), so the
reference tests check the code production runs, not a test-only wrapper.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

from lib.measures.year_rows import grid_rows
from lib.measures.yearly import YearSettings, summary_tables, year_indicators
from tests.conftest import data_path

CID_DIR = ("cid_py_ecomplexity",)
R_DIR = ("economiccomplexity_r",)


def _exports(year, countries: pd.Series, products: pd.Series, values: pd.Series):
    codes = {c: i for i, c in enumerate(sorted(countries.unique()))}
    frame = pd.DataFrame(
        {
            "year": year,
            "country_code": countries.map(codes).astype("int32"),
            "product": products,
            "export_value": values.astype(float),
        }
    )
    return frame, codes


@dataclass
class CoreOutput:
    """The yearly core's rows of every year, concatenated: per country, per product, the
    country x product grid (RCA, M, density, COG) and the convergence rows."""

    country: pd.DataFrame
    product: pd.DataFrame
    grid: pd.DataFrame
    convergence: pd.DataFrame


def yearly_core(exports: pd.DataFrame, **settings) -> CoreOutput:
    """Run the job's yearly core (``lib.measures.yearly``) on every year of ``exports`` (year,
    country_code, product, export_value) with the given ``YearSettings`` fields."""
    year_settings = YearSettings(**settings)
    parts: dict[str, list[pd.DataFrame]] = {
        k: [] for k in ("country", "product", "grid", "convergence")
    }
    for year, rows in exports.groupby("year", sort=True):
        ind = year_indicators(int(year), rows.reset_index(drop=True), year_settings)
        tables = summary_tables(ind, year_settings)
        for name in ("country", "product", "convergence"):
            if name in tables:
                parts[name].append(tables[name])
        parts["grid"].append(grid_rows(ind))
    return CoreOutput(
        **{k: pd.concat(v, ignore_index=True) if v else pd.DataFrame() for k, v in parts.items()}
    )


def stata_fixture_trade() -> pd.DataFrame:
    return pd.read_csv(data_path(*CID_DIR, "trade_data_sample.csv"), dtype={"hs92": str})


def stata_fixture_exports() -> tuple[pd.DataFrame, dict[str, int]]:
    """The Stata fixture's trade sample as exports rows, and the country codes used."""
    trade = stata_fixture_trade()
    return _exports(
        trade["year"].astype("int32"), trade["origin"], trade["hs92"], trade["export_val"]
    )


def r_package_exports() -> tuple[pd.DataFrame, dict[str, int]]:
    """The R package's world trade (average 1998-2000) as exports rows of year 2000."""
    trade = pd.read_csv(
        data_path(*R_DIR, "world_trade_avg_1998_to_2000.csv"), dtype={"product": str}
    )
    return _exports(2000, trade["country"], trade["product"], trade["value"])


@functools.cache
def r_package_bicm() -> tuple[pd.DataFrame, object]:
    """The R package's stored M (countries x products, named by its codes) and ``bicm``
    3.4.0's fit and validated column projection of it (Poisson p-values, FDR at 0.05): ~25 s,
    so made once per test session."""
    import contextlib
    import io

    from bicm import BipartiteGraph

    ones = pd.read_csv(data_path(*R_DIR, "package_output_balassa_index_ones.csv"), dtype=str)
    M = pd.crosstab(ones["country"], ones["product"]).clip(upper=1)
    graph = BipartiteGraph(biadjacency=M.to_numpy(dtype=int))
    with contextlib.redirect_stdout(io.StringIO()):
        graph.solve_tool(print_error=False)
        graph.compute_projection(
            rows=False, alpha=0.05, threads_num=1, progress_bar=False, validation_method="fdr"
        )
    return M, graph
