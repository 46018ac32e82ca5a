"""The outcome record in an S3 backend (moto's real S3 server): written, read, removed."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from styx.engine import StackRef
from styx.workflow._outcomes import (
    OutcomeRecord,
    finished,
    read_outcomes,
    remove_outcomes,
    started,
    write_outcomes,
)

pytestmark = pytest.mark.integration


def test_the_record_round_trips_through_s3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_CONFIG_FILE", "/nonexistent"),
                        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")):  # fmt: skip
        monkeypatch.setenv(name, value)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (tmp_path / "moto.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline, (tmp_path / "moto.log").read_text()
                time.sleep(0.1)
        boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket="team")
        ref = StackRef("styx", "hello", f"s3://team/state?endpoint={url}&region=us-east-1")
        assert read_outcomes(ref) is None
        record = OutcomeRecord({"head": finished(started(None, 3, "d1", "r1"), "failed", "x")})
        write_outcomes(ref, record)
        back = read_outcomes(ref)
        assert back is not None and back.get("head") == record.get("head")
        assert back.nodes["head"].describe() == "last attempt failed at version 3"
        remove_outcomes(ref)
        assert read_outcomes(ref) is None
    finally:
        server.terminate()
        server.wait(timeout=30)
