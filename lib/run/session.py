"""The SparkSession, with Delta Lake configured, for jobs, tests and notebooks.

Under ``spark-submit.sh`` Spark is already configured (jars, extensions, logging); building the
session from plain Python (tests, notebooks) adds the cached Delta jars that the launcher
resolved and the project's quiet logging (``conf/log4j2.properties``: warnings and errors only).

Must not use private Spark APIs (py4j, SparkContext): the session works in local mode, on a
cluster and through Spark Connect.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from lib.io.object_stores import s3a_endpoint_conf

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCALA_VERSION = "2.13"
# Spark's driver logs WARN and above with it; without it, Spark's INFO lines fill the console.
LOG_CONFIG = PROJECT_ROOT / "conf" / "log4j2.properties"


def delta_maven_coordinate() -> str:
    """The Delta jar matching the installed delta-spark and pyspark (Delta >= 4.1 names the Spark line)."""
    from importlib.metadata import version

    import pyspark

    spark_line = ".".join(pyspark.__version__.split(".")[:2])
    return f"io.delta:delta-spark_{spark_line}_{SCALA_VERSION}:{version('delta-spark')}"


def jars_dir() -> Path:
    return Path(os.environ.get("ECX_JARS_DIR", PROJECT_ROOT / ".cache" / "jars"))


def delta_jars() -> list[str]:
    jars = sorted(str(p) for p in jars_dir().glob("*.jar"))
    if not jars:
        raise RuntimeError(
            f"Delta jars not found in {jars_dir()}. Run ./spark-submit.sh --bootstrap once "
            "(it resolves them from Maven Central and caches them)."
        )
    return jars


# The AWS SDK v2 bundle that hadoop-aws of each Hadoop version declares (its pom), pinned so a
# resolution can never pick another one.
AWS_SDK_BUNDLE = {"3.5.0": "2.35.4"}
S3A_JARS = "s3a"  # the folder under the jar cache: not on the classpath of cluster runs


def hadoop_version() -> str:
    """The Hadoop client inside pyspark (its ``hadoop-client-api`` jar): the S3A connector
    (hadoop-aws) must be exactly this version."""
    import pyspark

    found = sorted((Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar"))
    if len(found) != 1:
        raise RuntimeError(f"expected one hadoop-client-api jar in pyspark's jars, found {found}")
    return found[0].name.removeprefix("hadoop-client-api-").removesuffix(".jar")


def s3a_maven_coordinates() -> str:
    """hadoop-aws matching pyspark's Hadoop and its AWS SDK bundle, for ``--packages``."""
    hadoop = hadoop_version()
    if hadoop not in AWS_SDK_BUNDLE:
        raise RuntimeError(
            f"no AWS SDK bundle pinned for Hadoop {hadoop}: add the version hadoop-aws {hadoop} "
            "declares to lib.run.session.AWS_SDK_BUNDLE"
        )
    return f"org.apache.hadoop:hadoop-aws:{hadoop},software.amazon.awssdk:bundle:{AWS_SDK_BUNDLE[hadoop]}"


def s3a_jars() -> list[str]:
    """The S3A connector's jars the launcher resolved (empty if it did not)."""
    return sorted(str(p) for p in (jars_dir() / S3A_JARS).glob("*.jar"))


DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    # Keep tables readable by delta-rs and DuckDB (see docs/reading-tables.md, "Reading the tables").
    "spark.databricks.delta.properties.defaults.enableDeletionVectors": "false",
    "spark.sql.session.timeZone": "UTC",
    # Our Delta logs are small: Delta's default of 50 partitions to rebuild a table's state
    # costs seconds per table read or write on a small machine.
    "spark.databricks.delta.snapshotPartitions": "2",
}


# Session settings a client may set on a running server (Spark Connect): the others (jars,
# extensions, catalog) belong to the server's own configuration.
RUNTIME_CONF = (
    "spark.sql.session.timeZone",
    "spark.databricks.delta.snapshotPartitions",
    "spark.sql.shuffle.partitions",
)


def remote_url() -> str | None:
    """The Spark Connect endpoint to use, if any: ``SPARK_REMOTE`` (set by ``spark-submit
    --remote`` and by Databricks Connect) or ``ECX_SPARK_REMOTE``."""
    return os.environ.get("ECX_SPARK_REMOTE") or os.environ.get("SPARK_REMOTE") or None


def ship_code(spark: SparkSession) -> None:
    """Send this project's ``lib`` package to a Spark Connect server's Python workers (the
    yearly tasks import it), as a zip artifact: Connect's public way to ship code
    (``SparkSession.addArtifacts(..., pyfile=True)``)."""
    import tempfile
    import zipfile

    package = Path(__file__).resolve().parents[1]
    if not package.is_dir():  # imported from a zip already (e.g. --py-files): send that zip
        spark.addArtifacts(str(package).partition(".zip")[0] + ".zip", pyfile=True)
        return
    folder = Path(tempfile.mkdtemp(prefix="ecx-code-"))
    archive = folder / "ecx_lib.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, path.relative_to(package.parent).as_posix())
    spark.addArtifacts(str(archive), pyfile=True)


def quiet_logging_option() -> str:
    """The JVM option that makes the driver log with ``conf/log4j2.properties``."""
    return f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}"


def build_session(
    app_name: str = "ecomplexity",
    master: str | None = None,
    extra_conf: dict[str, str] | None = None,
    verbose: bool = False,
) -> SparkSession:
    """Return the active session, or build one with Delta configured.

    With a Spark Connect endpoint (``remote_url``) the session is a Connect client: the server
    must have Delta's jars and extensions (docs/spark-connect.md, "Spark Connect"); only runtime settings are
    sent. ``master`` is only used when no session exists and Spark was not launched by
    spark-submit. ``verbose``: Spark's INFO log lines (by default warnings and errors only);
    under spark-submit the JVM already logs as ``spark-submit.sh`` chose from the job's own
    ``--verbose``, before Python runs.
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    conf = {**DELTA_CONF, **(extra_conf or {})}
    remote = remote_url()
    if remote is not None:
        builder = SparkSession.builder.remote(remote).appName(app_name)
        for key, value in conf.items():
            if key in RUNTIME_CONF:
                builder = builder.config(key, value)
        spark = builder.getOrCreate()
        ship_code(spark)
        return spark
    builder = SparkSession.builder.appName(app_name)
    # Under spark-submit the JVM already runs (with its jars) and hands the driver a gateway port.
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        builder = builder.master(master or "local[*]").config("spark.jars", ",".join(delta_jars()))
        local = (master or "local").startswith("local")
        if local and s3a_jars():
            # s3a:// in local mode: on the driver's class path (the executors share its JVM);
            # WHY not spark.jars: Spark would copy the ~690 MB SDK bundle for every session.
            builder = builder.config("spark.driver.extraClassPath", ":".join(s3a_jars()))
        # An S3-compatible endpoint from AWS_ENDPOINT_URL (lib.io.object_stores), unless given.
        for key, value in s3a_endpoint_conf().items():
            if key not in (extra_conf or {}):
                builder = builder.config(key, value)
        builder = builder.config("spark.ui.showConsoleProgress", "false")
        if not verbose:
            # Applied when the JVM starts, before Spark's first log line (spark.log.level below
            # only from the SparkContext on); a user's spark.driver.extraJavaOptions come after.
            builder = builder.config("spark.driver.defaultJavaOptions", quiet_logging_option())
        # Python workers must use this interpreter (it has numpy, pandas and pyarrow).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        if (master or "local").startswith("local"):
            # As spark-submit.sh: no warning that the host name resolves to a loopback address.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Spark's own log level for the session's lifetime (no SparkContext call needed).
    level = os.environ.get("ECX_SPARK_LOG_LEVEL", "INFO" if verbose else "WARN")
    builder = builder.config("spark.log.level", level)
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
