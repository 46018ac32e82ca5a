"""Saved plans apply exactly what was shown, stale ones are refused, and no secret leaks.

Real engine, real sshd, real ansible-runner; one single-node cluster for the whole module.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SECRET = "s3cr3t-VALUE-4f9a1c"

TASK = """\
name: saved
num_nodes: 1
resources:
  cpus: 0.5
envs:
  MODE: first
secrets:
  TOKEN: null
setup: |
  echo "setup in $MODE mode, token of length ${#TOKEN}"
run: |
  echo "token digest $(printf %s "$TOKEN" | sha256sum | cut -c1-16)"
  echo "run in $MODE mode"
  echo "careless job prints $TOKEN"
"""


class Runner:
    def __init__(self, base: Path) -> None:
        self.home = base / "home"
        self.work = base / "work"
        self.home.mkdir()
        self.work.mkdir()
        self.task = self.work / "saved.yaml"
        self.task.write_text(TASK)
        self.transcript: list[str] = []

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(
            [*args, "--secret", "TOKEN"]
            if args[0] in ("plan", "apply", "exec", "launch") and not args[1].endswith(".json")
            else list(args)
        )

    def run(
        self, args: list[str], env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full = {**os.environ, "STYX_HOME": str(self.home), "TOKEN": SECRET, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "styx", *args],
            capture_output=True, text=True, env=full, cwd=self.work, timeout=300,
        )  # fmt: skip
        self.transcript += [proc.stdout, proc.stderr]
        return proc


@pytest.fixture(scope="module")
def styx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    runner = Runner(tmp_path_factory.mktemp("saved"))
    yield runner
    runner("down", "-s", "saved", "-y", "-q")


def ok(proc: subprocess.CompletedProcess[str], code: int = 0) -> str:
    assert proc.returncode == code, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


def test_a_saved_plan_applies(styx: Runner) -> None:
    out = ok(styx("plan", "saved.yaml", "-o", "first.json", "--detailed-exitcode"), 2)
    assert "1 to create" in out or "3 to create" in out
    saved = json.loads((styx.work / "first.json").read_text())
    assert saved["kind"] == "styx-saved-plan"
    assert (styx.work / "first.json").stat().st_mode & 0o777 == 0o600
    out = ok(styx("apply", "first.json", "-y"))
    assert "Applied the saved plan to styx/saved" in out
    ok(styx("plan", "saved.yaml", "--detailed-exitcode"), 0)


def test_a_plan_is_refused_once_another_apply_moved_the_stack(styx: Runner) -> None:
    styx.task.write_text(TASK.replace("MODE: first", "MODE: second"))
    out = ok(styx("plan", "saved.yaml", "-o", "second.json", "--detailed-exitcode"), 2)
    assert "setup re-runs on 1 node" in out
    ok(styx("apply", "saved.yaml", "-y"))  # moves the stack on
    refused = styx("apply", "second.json", "-y")
    ok(refused, 1)
    assert "second.json is stale" in refused.stderr and "version" in refused.stderr


def test_a_plan_is_refused_when_the_task_changed(styx: Runner) -> None:
    ok(styx("plan", "saved.yaml", "-o", "third.json"))
    styx.task.write_text(TASK.replace("MODE: first", "MODE: third"))
    refused = styx("apply", "third.json", "-y")
    ok(refused, 1)
    assert "the task changed" in refused.stderr


def files_holding_the_secret(*roots: Path) -> list[Path]:
    return [
        path
        for root in roots
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink() and SECRET.encode() in path.read_bytes()
    ]


def test_the_job_sees_the_secret_and_nothing_shows_it(styx: Runner) -> None:
    out = ok(styx("launch", "saved.yaml", "-y"))
    assert "run in third mode" in out
    # The node got the real value: its digest matches, the value itself is never printed.
    assert f"token digest {hashlib.sha256(SECRET.encode()).hexdigest()[:16]}" in out
    # A job that prints it: masked on screen and in the log Styx keeps.
    assert "careless job prints [secret]" in out
    out = ok(styx("exec", "saved.yaml"))
    assert "careless job prints [secret]" in out
    logs = list((styx.home / "stacks" / "styx" / "saved" / "logs").rglob("*.log"))
    assert any(b"careless job prints [secret]" in log.read_bytes() for log in logs)
    ok(styx("plan", "saved.yaml", "--format", "json", "-o", "fourth.json"))
    ok(styx("plan", "saved.yaml", "--format", "markdown"))
    for text in styx.transcript:
        assert SECRET not in text
    # Nothing Styx keeps holds it. The job runs under the head node's agent, which masks
    # the logs it keeps on the node too; what a job writes itself into the node's home (under
    # STYX_HOME/local for local nodes, until down) is the job's own business.
    nodes = styx.home / "local"
    assert files_holding_the_secret(styx.home / "stacks", styx.home / "state", styx.work) == []
    leaks = files_holding_the_secret(styx.home)
    assert all(p.is_relative_to(nodes) for p in leaks), leaks


def test_everything_styx_writes_under_styx_home_is_private(styx: Runner) -> None:
    loose = []
    # STYX_HOME itself is the test's (made with the default umask); everything in it is Styx's.
    for path in styx.home.rglob("*"):
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode) or stat.S_ISSOCK(mode):
            continue
        if mode & 0o077:
            loose.append(f"{oct(mode & 0o777)} {path.relative_to(styx.home)}")
    assert loose == []


def test_after_down_the_secret_is_nowhere_and_gc_lists_what_it_removes(styx: Runner) -> None:
    stack = styx.home / "stacks" / "styx" / "saved"
    logs = sorted(p.name for p in (stack / "logs").iterdir())
    assert logs, "setup and job logs are kept while the cluster exists"
    # Logs of a live cluster are never the policy's to remove, however short it is.
    env = {"STYX_KEEP_LOGS_DAYS": "0"}
    assert "logs/" not in ok(styx.run(["gc", "--dry-run"], env))
    assert "runs/" not in ok(styx.run(["gc", "--dry-run"], env)), "runs that ended well are gone"
    ok(styx("down", "-s", "saved", "-y", "-q"))
    assert files_holding_the_secret(styx.home, styx.work) == []
    assert sorted(p.name for p in (stack / "logs").iterdir()) == logs  # 7 days by default
    listed = ok(styx.run(["gc", "--dry-run"], env)).splitlines()
    assert sorted(line.split()[2].split("/")[-1] for line in listed if "logs/" in line) == logs
    removed = ok(styx.run(["gc"], env)).splitlines()
    assert [line.replace("would remove", "removed", 1) for line in listed[:-1]] == removed[:-1]
    assert not list((stack / "logs").iterdir())
    assert ok(styx.run(["gc", "--dry-run"], env)).startswith("Would remove 0 item(s)")
