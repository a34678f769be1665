"""Delta tables on S3, against a real S3 server on 127.0.0.1 (moto, tests/s3_server.py).

Spark writes through the S3A connector the bootstrap resolved, delta-rs and DuckDB read the same
bucket with the same environment variables a user would set; the endpoint and keys reach no
table. The whole job on an S3 warehouse is tests/test_object_store_job.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from lib.io import bi
from lib.io.filesystems import arrow_uri
from lib.io.object_stores import s3a_endpoint_conf
from lib.run import session
from tests.s3_server import ACCESS_KEY, BUCKET, SECRET_KEY


def test_the_endpoint_becomes_s3a_settings_and_no_key_does():
    environ = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIA-not-copied",
        "AWS_SECRET_ACCESS_KEY": "not-copied-either",
    }
    assert s3a_endpoint_conf(environ) == {
        "spark.hadoop.fs.s3a.endpoint": "http://127.0.0.1:9000",
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
        "spark.hadoop.fs.s3a.endpoint.region": "eu-west-1",
    }
    https = s3a_endpoint_conf({"AWS_ENDPOINT_URL_S3": "https://minio.example.com"})
    assert https["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "true"
    assert s3a_endpoint_conf({"AWS_REGION": "eu-west-1"}) == {}  # AWS itself: S3A's defaults
    with pytest.raises(ValueError, match="AWS_ENDPOINT_URL"):
        s3a_endpoint_conf({"AWS_ENDPOINT_URL": "ftp://host"})


def test_duckdb_secret_from_the_environment():
    sql = bi.s3_secret_sql(
        {
            "AWS_ACCESS_KEY_ID": "k",
            "AWS_SECRET_ACCESS_KEY": "it's",
            "AWS_ENDPOINT_URL": "http://h:1",
        }
    )
    assert sql == (
        "CREATE OR REPLACE SECRET ecx_s3 (TYPE s3, KEY_ID 'k', SECRET 'it''s', "
        "ENDPOINT 'h:1', URL_STYLE 'path', USE_SSL false)"
    )


def test_s3a_connector_matches_pysparks_hadoop():
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    hadoop = session.hadoop_version()
    assert (jars / f"hadoop-client-api-{hadoop}.jar").is_file()
    resolved = {Path(p).name for p in session.s3a_jars()}
    assert f"org.apache.hadoop_hadoop-aws-{hadoop}.jar" in resolved
    bundle = session.AWS_SDK_BUNDLE[hadoop]
    assert f"software.amazon.awssdk_bundle-{bundle}.jar" in resolved
    assert session.s3a_maven_coordinates() == (
        f"org.apache.hadoop:hadoop-aws:{hadoop},software.amazon.awssdk:bundle:{bundle}"
    )


def _log_objects(s3, prefix: str) -> list[str]:
    client = s3.client()
    keys = [k for k in s3.keys(prefix=prefix) if "/_delta_log/" in k]
    return [client.get_object(Bucket=BUCKET, Key=k)["Body"].read().decode() for k in keys]


def test_spark_delta_rs_and_duckdb_share_a_table_on_s3(spark, s3):
    uri = f"s3a://{BUCKET}/shared/numbers"
    rows = spark.createDataFrame([(i, float(i) / 3) for i in range(100)], "n INT, third DOUBLE")
    rows.write.format("delta").mode("overwrite").save(uri)
    # delta-rs appends to the table Spark made, on the same bucket (s3:// for non-Hadoop readers)
    write_deltalake(
        arrow_uri(uri),
        pa.table({"n": pa.array([100], pa.int32()), "third": [100 / 3]}),
        mode="append",
    )
    assert DeltaTable(arrow_uri(uri)).version() == 1
    expected = sorted((i, i / 3) for i in range(101))
    by_spark = sorted(tuple(r) for r in spark.read.format("delta").load(uri).collect())
    by_delta_rs = DeltaTable(arrow_uri(uri)).to_pyarrow_table().to_pylist()
    con = bi.duckdb_with_delta(s3=True)
    try:
        by_duckdb = con.execute("SELECT n, third FROM delta_scan(?)", [arrow_uri(uri)]).fetchall()
    finally:
        con.close()
    assert by_spark == expected
    assert sorted((r["n"], r["third"]) for r in by_delta_rs) == expected
    assert sorted(by_duckdb) == expected
    # Neither the endpoint nor a key was written into the table's log.
    for text in _log_objects(s3, "shared/numbers/"):
        for secret in (ACCESS_KEY, SECRET_KEY, s3.endpoint, f":{s3.port}"):
            assert secret not in text
        for line in text.splitlines():
            json.loads(line)  # whole JSON commits, nothing half-written
