"""Object-store settings the engines share: one set of AWS environment variables for all of them.

A warehouse on ``s3a://`` is reached by four engines: Spark's S3A connector (Delta's writer and
reader), pyarrow in the Spark tasks (the Arrow writer, ``lib.io.delta_arrow``), delta-rs on the
driver (its commits) and DuckDB or delta-rs in a BI tool. pyarrow and delta-rs read the AWS
variables themselves (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``,
``AWS_REGION``, ``AWS_ENDPOINT_URL``; delta-rs also ``AWS_ALLOW_HTTP`` for a plain-http
endpoint), and S3A's default credential chain reads the keys from the same variables. Only the
endpoint of an S3-compatible server (MinIO, Ceph, a test server) is not taken from the
environment by S3A: ``s3a_endpoint_conf`` turns ``AWS_ENDPOINT_URL`` into the matching
``spark.hadoop.fs.s3a.*`` settings, which ``lib.run.session.build_session`` adds to a session
it builds, unless the user set them.

Must not hold or copy credentials (keys stay in the environment or the user's Hadoop settings,
never in the session's configuration, a table or a log), and must not touch anything but S3.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

S3A = "spark.hadoop.fs.s3a."


def s3_endpoint(environ: Mapping[str, str] | None = None) -> str | None:
    """The S3 endpoint URL from the environment (``AWS_ENDPOINT_URL_S3`` first, as the AWS
    SDKs), None for AWS itself."""
    environ = os.environ if environ is None else environ
    return environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or None


def s3a_endpoint_conf(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """S3A's settings for the endpoint named in the environment: the endpoint, path-style
    access (S3-compatible servers rarely have a DNS name per bucket), TLS on or off as the URL
    says, and the region when ``AWS_REGION`` names one. Empty without an endpoint variable."""
    environ = os.environ if environ is None else environ
    endpoint = s3_endpoint(environ)
    if endpoint is None:
        return {}
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"AWS_ENDPOINT_URL must be an http(s) URL, not {endpoint!r}")
    conf = {
        f"{S3A}endpoint": f"{parts.scheme}://{parts.netloc}",
        f"{S3A}path.style.access": "true",
        f"{S3A}connection.ssl.enabled": str(parts.scheme == "https").lower(),
    }
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if region:
        conf[f"{S3A}endpoint.region"] = region
    return conf


class StorageError(OSError):
    """A warehouse on an object store that cannot be used: missing bucket, refused
    credentials, unreachable endpoint. The message names the URI."""


def check_reachable(uri: str) -> None:
    """Fail fast, naming ``uri``, when an S3 warehouse cannot be reached: before a job starts
    Spark, so a missing bucket, wrong keys or a stopped server cost seconds, not a failed run.
    Other URIs are left to Spark (their credentials are in its Hadoop settings)."""
    from pyarrow.fs import FileType

    from lib.io.filesystems import arrow_filesystem, is_s3

    if not is_s3(uri):
        return
    endpoint = s3_endpoint() or "AWS"
    try:
        fs, path = arrow_filesystem(uri)
        bucket = path.split("/", 1)[0]
        found = fs.get_file_info(bucket).type
    except OSError as error:
        raise StorageError(
            f"cannot reach the warehouse {uri} (S3 endpoint {endpoint}): {error}. Check the "
            "endpoint is up and the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, "
            "or the instance role) may read the bucket"
        ) from error
    if found == FileType.NotFound:
        raise StorageError(
            f"the warehouse {uri}: bucket {bucket!r} does not exist at the S3 endpoint "
            f"{endpoint} (or the credentials in use cannot see it); create it first"
        )
