"""A real S3-compatible server on 127.0.0.1 for the object-store tests: moto's standalone server.

WHY moto (docs/cluster.md, "Tested against a local S3 server"): a real HTTP endpoint from PyPI
that starts in about a second with no account and no network, and answers conditional PUTs as
S3 does (412 for ``If-None-Match: *`` on an existing key), which delta-rs's commits rely on.
SeaweedFS's S3 gateway is closer to a production store but takes minutes and gigabytes to build
from source: too heavy for every test run.

The suite reaches it as a user reaches an S3-compatible store: through the standard AWS
environment variables (``configure_environment``, set when the test session starts, before the
JVM and its Python workers inherit the environment) and the S3A settings derived from them
(``lib.io.object_stores``). The endpoint's port is fixed then; the server itself starts only when
a test asks for it (the ``s3`` fixture of tests/conftest.py).

Clients see the server through a small TCP relay (``tests/s3_relay.py``, its own process) so a
test can take the endpoint away and bring it back while the server keeps its objects: that is a
stopped server as every client sees it (connection refused), with the bucket still there to
check afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BUCKET = "ecx-warehouse"
ACCESS_KEY = "ecx-test-key"
SECRET_KEY = "ecx-test-secret"
REGION = "us-east-1"
PORT_VARIABLE = "ECX_TEST_S3_PORT"
RELAY = Path(__file__).resolve().parent / "s3_relay.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def configure_environment() -> int:
    """Point every S3 client of this process and its children at the test endpoint (AWS
    variables, as a user of an S3-compatible store sets them); returns the endpoint's port.
    Any AWS settings of the caller's environment are replaced: no test ever reaches AWS."""
    port = int(os.environ.get(PORT_VARIABLE) or free_port())
    os.environ.update(
        {
            PORT_VARIABLE: str(port),
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
            "AWS_ALLOW_HTTP": "true",  # delta-rs: the endpoint is plain http
            "AWS_EC2_METADATA_DISABLED": "true",  # no SDK looks for an instance role
        }
    )
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION"):
        os.environ.pop(name, None)
    return port


def _wait_for(url: str, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError as error:
            if process.poll() is not None:
                raise RuntimeError(f"{what} exited with {process.returncode}") from error
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not answer at {url}") from error
            time.sleep(0.1)


class S3Server:
    """moto's server on a private port behind the relay on the public one (the endpoint)."""

    def __init__(self, port: int, check_credentials: bool = False) -> None:
        self.port = port
        # moto accepts any key unless its IAM checks are on from the first request: then a
        # key it never issued is refused (403), as S3 refuses a wrong one.
        self._environment = (
            {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"} if (check_credentials) else None
        )
        self.endpoint = f"http://127.0.0.1:{port}"
        self._server: subprocess.Popen | None = None
        self._relay: subprocess.Popen | None = None
        self._server_port = free_port()

    def start(self) -> S3Server:
        self._server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self._server_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self._environment,
        )
        _wait_for(f"http://127.0.0.1:{self._server_port}/moto-api/", self._server, "moto")
        self.resume()
        return self

    def interrupt(self) -> None:
        """Take the endpoint away (clients get connection refused); the objects stay."""
        if self._relay is not None:
            self._relay.terminate()
            self._relay.wait(30)
            self._relay = None

    def resume(self) -> None:
        """Bring the endpoint back."""
        if self._relay is None:
            self._relay = subprocess.Popen(
                [sys.executable, str(RELAY), str(self.port), str(self._server_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _wait_for(f"{self.endpoint}/moto-api/", self._relay, "the S3 relay")

    def stop(self) -> None:
        self.interrupt()
        if self._server is not None:
            self._server.terminate()
            self._server.wait(30)
            self._server = None

    def client(self, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY, direct=False):
        """A boto3 client of the endpoint (``direct``: of the server itself, past the relay:
        it works while the endpoint is interrupted)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{self._server_port}" if direct else self.endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=REGION,
        )

    def create_bucket(self, name: str = BUCKET) -> str:
        self.client(direct=True).create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str = BUCKET, prefix: str = "", direct: bool = False) -> list[str]:
        client = self.client(direct=direct)
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]
