"""Reading the Delta tables without Spark, the way BI tools and notebooks do.

DuckDB's ``delta`` extension normally downloads at run time; the ``duckdb-ext-delta`` wheel ships
it, so it loads offline (and ``duckdb-ext-httpfs``, DuckDB's S3 reader, where installed).
``deltalake`` (delta-rs) needs nothing extra: it reads the AWS environment variables itself.

Must not keep credentials anywhere but in the DuckDB connection's own (in-memory) secret.
"""

from __future__ import annotations

import glob
import os

import duckdb
import pandas as pd


def _wheel_extension(name: str) -> str | None:
    """The path of a DuckDB extension shipped by a ``duckdb-ext-*`` wheel, if installed."""
    try:
        import duckdb_ext
    except ImportError:
        return None
    pattern = os.path.join(
        list(duckdb_ext.__path__)[0],
        "extensions",
        f"v{duckdb.__version__}",
        "*",
        f"{name}.duckdb_extension",
    )
    found = glob.glob(pattern)
    return found[0] if found else None


def duckdb_with_delta(s3: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with ``delta_scan`` available (offline when the wheel is installed);
    with ``s3``, also DuckDB's S3 reader and a secret from the AWS environment variables
    (``s3_secret_sql``), so ``delta_scan('s3://bucket/warehouse/country_year')`` works."""
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    for name in ("httpfs", "delta") if s3 else ("delta",):
        found = _wheel_extension(name)
        con.execute(f"LOAD '{found}'" if found else f"INSTALL {name}; LOAD {name};")
    if s3:
        con.execute(s3_secret_sql())
    return con


def s3_secret_sql(environ: dict[str, str] | None = None) -> str:
    """DuckDB's ``CREATE SECRET`` for S3 from the AWS variables (keys, region, an
    S3-compatible endpoint), which DuckDB does not read by itself without its ``aws``
    extension's credential chain."""
    from urllib.parse import urlsplit

    from lib.io.object_stores import s3_endpoint

    environ = dict(os.environ if environ is None else environ)

    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    options = {"TYPE": "s3"}
    for option, variable in (
        ("KEY_ID", "AWS_ACCESS_KEY_ID"),
        ("SECRET", "AWS_SECRET_ACCESS_KEY"),
        ("SESSION_TOKEN", "AWS_SESSION_TOKEN"),
        ("REGION", "AWS_REGION"),
    ):
        if environ.get(variable):
            options[option] = literal(environ[variable])
    endpoint = s3_endpoint(environ)
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        options.update(
            ENDPOINT=literal(parts.netloc),
            URL_STYLE="'path'",
            USE_SSL=str(parts.scheme == "https").lower(),
        )
    return (
        "CREATE OR REPLACE SECRET ecx_s3 ("
        + ", ".join(f"{k} {v}" for k, v in options.items())
        + ")"
    )


def read_with_deltalake(path: str, columns: list[str] | None = None) -> pd.DataFrame:
    from deltalake import DeltaTable

    return DeltaTable(path).to_pandas(columns=columns)
