"""Reading the Delta tables without Spark, the way BI tools and notebooks do.

DuckDB's ``delta`` extension normally downloads at run time; the ``duckdb-ext-delta`` wheel ships
it, so it loads offline. ``deltalake`` (delta-rs) needs nothing extra.
"""

from __future__ import annotations

import glob
import os

import duckdb
import pandas as pd


def duckdb_with_delta() -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with ``delta_scan`` available (offline when the wheel is installed)."""
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    try:
        import duckdb_ext

        pattern = os.path.join(
            list(duckdb_ext.__path__)[0],
            "extensions",
            f"v{duckdb.__version__}",
            "*",
            "delta.duckdb_extension",
        )
        found = glob.glob(pattern)
    except ImportError:
        found = []
    if found:
        con.execute(f"LOAD '{found[0]}'")
    else:
        con.execute("INSTALL delta; LOAD delta;")
    return con


def read_with_deltalake(path: str, columns: list[str] | None = None) -> pd.DataFrame:
    from deltalake import DeltaTable

    return DeltaTable(path).to_pandas(columns=columns)
