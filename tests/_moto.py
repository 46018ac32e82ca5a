"""moto's real S3 (and EC2) server on a loopback port, for the tests that need an AWS stand-in.

One server per test session (tests/conftest.py's `moto_server` fixture): it starts in a few
seconds but costs a core while it does, and buckets are cheap to keep apart by name.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FAKE_CREDENTIALS", "MotoServer", "moto_running"]

# Credentials moto accepts; no file of the user's is read for them.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_REGION": "us-east-1",
}

_START_TIMEOUT = 60.0


@dataclass(frozen=True)
class MotoServer:
    """A running moto server: its endpoint URL and where it logs."""

    url: str
    log: Path

    def client(self, service: str = "s3") -> Any:
        import boto3

        return boto3.client(
            service, endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip

    def bucket(self, prefix: str = "team", *, versioned: bool = True) -> str:
        """A new bucket of its own (versioned, as a team's state bucket should be)."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        s3 = self.client()
        s3.create_bucket(Bucket=name)
        if versioned:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def backend_url(self, bucket: str, prefix: str = "") -> str:
        """The `s3://` backend URL of `bucket` (and `prefix`) on this server."""
        path = f"/{prefix}" if prefix else ""
        return f"s3://{bucket}{path}?endpoint={self.url}&region=us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def moto_running(folder: Path) -> Iterator[MotoServer]:
    """moto's server on a free loopback port, stopped and reaped on exit."""
    port = _free_port()
    log_path = folder / "moto.log"
    # Its request log goes to a file: a pipe nobody reads would fill and stall the server.
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"moto's server exited:\n{log_path.read_text()}")
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto's server did not answer on {url}") from None
                time.sleep(0.1)
        yield MotoServer(url, log_path)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
