"""The issue's acceptance on a team backend: moto's real S3 server, a versioned bucket.

Three applies with changes; history lists three versions with summaries; show --version 1
prints the first task; diff 1 3 shows the changes; rollback 1 plans the way back and applies
it as version 4; the version-1 task then plans "No changes". Then the stack moves: exported
from S3 and imported into a fresh file backend, with the same history and plan.
Real engine, real sshd, real ansible-runner; everything Styx records lives in the bucket.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TASK = """\
name: teamh
num_nodes: {nodes}
resources:
  cpus: 0.5
envs:
  MODE: {mode}
setup: |
  echo "setup in $MODE mode"
run: |
  echo run
"""

_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_REGION": "us-east-1"}  # fmt: skip


class Team:
    def __init__(self, base: Path, backend: str) -> None:
        self.home = base / "home"
        self.work = base / "work"
        self.home.mkdir()
        self.work.mkdir()
        self.backend = backend
        (self.work / "stack.yaml").write_text(
            f"name: teamh\ntask: teamh.yaml\nbackend: \"{backend}\"\n"
        )

    def write(self, nodes: int, mode: str) -> None:
        (self.work / "teamh.yaml").write_text(TASK.format(nodes=nodes, mode=mode))

    def __call__(self, *args: str, code: int | None = 0) -> str:
        env = {**os.environ, **_AWS, "STYX_HOME": str(self.home)}
        proc = subprocess.run(
            [sys.executable, "-m", "styx", *args],
            capture_output=True, text=True, env=env, cwd=self.work, timeout=400,
        )  # fmt: skip
        if code is not None:
            assert proc.returncode == code, (
                f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
            assert "Traceback" not in proc.stderr
        return proc.stdout


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    import boto3

    base = tmp_path_factory.mktemp("team-history")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (base / "moto.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **_AWS},
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline, (base / "moto.log").read_text()
                time.sleep(0.1)
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="team")
        s3.put_bucket_versioning(Bucket="team",
                                 VersioningConfiguration={"Status": "Enabled"})  # fmt: skip
        backend = (f"s3://team/state?endpoint=127.0.0.1:{port}&disableSSL=true"
                   "&s3ForcePathStyle=true&region=us-east-1")  # fmt: skip
        runner = Team(base, backend)
        runner.s3 = s3  # type: ignore[attr-defined]
        yield runner
        runner("down", "--stack-file", "stack.yaml", "-y", "-q", code=None)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_history_show_diff_rollback_on_s3(team: Team) -> None:
    for nodes, mode in ((1, "first"), (2, "first"), (2, "third")):
        team.write(nodes, mode)
        team("apply", "--stack-file", "stack.yaml", "-y", "-q")

    history = json.loads(team("history", "--stack-file", "stack.yaml", "--json"))
    assert [h["version"] for h in history] == [1, 2, 3]
    assert [h["result"] for h in history] == ["succeeded"] * 3
    assert history[0]["summary"].startswith("+3 ~0 -0; setup on 1")
    # The records are objects in the bucket, beside the engine's checkpoint.
    keys = [o["Key"] for o in team.s3.list_objects_v2(  # type: ignore[attr-defined]
        Bucket="team", Prefix="state/.styx/styx/teamh/versions/")["Contents"]]
    assert len(keys) == 3

    shown = team("show", "--stack-file", "stack.yaml", "--version", "1")
    assert "num_nodes: 1" in shown and "MODE: first" in shown

    diff = team("diff", "--stack-file", "stack.yaml", "1", "3")
    assert "worker1" in diff and "MODE" in diff

    out = team("rollback", "--stack-file", "stack.yaml", "1", "-y")
    assert "to delete" in out and "now version 4" in out
    history = json.loads(team("history", "--stack-file", "stack.yaml", "--json"))
    assert [h["version"] for h in history] == [1, 2, 3, 4]
    assert history[-1]["summary"].startswith("rollback to 1:")

    team.write(1, "first")
    assert "No changes" in team("plan", "--stack-file", "stack.yaml")


def test_export_from_s3_and_import_into_a_file_backend(team: Team, tmp_path: Path) -> None:
    before = json.loads(team("history", "--stack-file", "stack.yaml", "--json"))
    bundle = tmp_path / "teamh.json"
    team("state", "export", "--stack-file", "stack.yaml", "-o", str(bundle))
    moved = (tmp_path / "moved").as_uri()
    team("state", "import", str(bundle), "--backend", moved)
    assert json.loads(team("history", "teamh", "--backend", moved, "--json")) == before
    (team.work / "moved.yaml").write_text(f"name: teamh\ntask: teamh.yaml\nbackend: {moved}\n")
    team.write(1, "first")
    assert "No changes" in team("plan", "--stack-file", "moved.yaml")
