"""Versions from the backend alone: history, show, diff, rollback, cost-report, export/import.

Real engine, real sshd, real ansible-runner, the file backend; one small cluster applied
three times with changes, then rolled back to its first task.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TASK = """\
name: hist
num_nodes: {nodes}
resources:
  cpus: 0.5
envs:
  MODE: {mode}
secrets:
  TOKEN: null
setup: |
  echo "setup in $MODE mode"
run: |
  echo run
"""
SECRET = "hist-s3cr3t-9d1e"


class Runner:
    def __init__(self, base: Path) -> None:
        self.home = base / "home"
        self.work = base / "work"
        self.home.mkdir()
        self.work.mkdir()
        self.task = self.work / "hist.yaml"

    def write(self, nodes: int, mode: str) -> None:
        self.task.write_text(TASK.format(nodes=nodes, mode=mode))

    def __call__(self, *args: str, code: int | None = 0,
                 env: dict[str, str] | None = None) -> str:
        full = {**os.environ, "STYX_HOME": str(self.home), "TOKEN": SECRET, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "styx", *args],
            capture_output=True, text=True, env=full, cwd=self.work, timeout=400,
        )  # fmt: skip
        if code is None:
            return proc.stdout
        assert proc.returncode == code, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr
        assert SECRET not in proc.stdout + proc.stderr
        return proc.stdout


@pytest.fixture(scope="module")
def styx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    runner = Runner(tmp_path_factory.mktemp("history"))
    yield runner
    runner("down", "-s", "hist", "-y", "-q", code=None)


def test_three_applies_then_history_show_diff_rollback(styx: Runner) -> None:
    for nodes, mode in ((1, "first"), (2, "first"), (2, "third")):
        styx.write(nodes, mode)
        styx("apply", "hist.yaml", "--secret", "TOKEN", "-y", "-q")

    history = json.loads(styx("history", "hist", "--json"))
    assert [h["version"] for h in history] == [1, 2, 3]
    assert all(h["result"] == "succeeded" and h["kind"] == "apply" for h in history)
    assert "@" in history[0]["who"]
    assert history[0]["summary"].startswith("+")
    assert history[1]["summary"] != history[2]["summary"]
    table = styx("history", "hist")
    assert "VERSION" in table and "succeeded" in table

    shown = styx("show", "hist", "--version", "1")
    assert "num_nodes: 1" in shown and "MODE: first" in shown
    assert "TOKEN: null" in shown and SECRET not in shown
    assert "head:\n    status: ok" in shown

    diff = styx("diff", "hist", "1", "3")
    assert "worker1" in diff  # a node added
    assert "envs: changed MODE" in diff or "MODE" in diff

    out = styx("rollback", "hist", "1", "-y")
    assert "back to the task of version 1" in out
    assert "delete" in out or "- " in out  # the worker goes away
    history = json.loads(styx("history", "hist", "--json"))
    assert history[-1]["version"] == 4
    assert history[-1]["kind"] == "rollback" and history[-1]["rollback_of"] == 1
    assert history[-1]["result"] == "succeeded"

    styx.write(1, "first")
    plan = styx("plan", "hist.yaml", "--secret", "TOKEN")
    assert "No changes" in plan, plan

    report = json.loads(styx("cost-report", "--json"))
    cluster = next(c for c in report["clusters"] if c["cluster"] == "hist")
    assert cluster["state"] == "running"
    assert [s["version"] for s in cluster["spans"]] == [1, 2, 3, 4]
    assert report["caveats"]


def test_export_then_import_into_a_fresh_backend_keeps_history_and_plan(
    styx: Runner, tmp_path: Path
) -> None:
    """Runs after the rollback above: four versions to carry over."""
    before = json.loads(styx("history", "hist", "--json"))
    assert len(before) >= 4
    bundle = tmp_path / "hist.export.json"
    out = styx("state", "export", "hist", "-o", str(bundle))
    assert "Exported styx/hist" in out
    assert oct(bundle.stat().st_mode & 0o777) == "0o600"
    assert SECRET not in bundle.read_text()

    fresh = (tmp_path / "fresh-state").as_uri()
    styx("state", "import", str(bundle), "--backend", fresh)
    after = json.loads(styx("history", "hist", "--json", "--backend", fresh))
    assert after == before
    shown = styx("show", "hist", "--version", "1", "--backend", fresh)
    assert "num_nodes: 1" in shown

    # The same task planned against the imported stack: nothing to do.
    stack_file = styx.work / "fresh-stack.yaml"
    stack_file.write_text(f"name: hist\ntask: hist.yaml\nbackend: {fresh}\n")
    styx.write(1, "first")
    plan = styx("plan", "--stack-file", str(stack_file), "--secret", "TOKEN")
    assert "No changes" in plan, plan
    # A second import into the same backend is refused: an import never overwrites history.
    styx("state", "import", str(bundle), "--backend", fresh, code=1)


def test_a_failed_setup_is_recorded_as_what_happened(styx: Runner) -> None:
    styx.task.write_text(TASK.format(nodes=1, mode="broken").replace(
        'echo "setup in $MODE mode"', "echo failing on purpose; exit 3"))
    styx("apply", "hist.yaml", "--secret", "TOKEN", "-y", "-q", code=1)
    last = json.loads(styx("history", "hist", "--json"))[-1]
    assert last["result"] == "failed at setup on head", last
    shown = styx("show", "hist")
    assert f"version {last['version']}" in shown and "status: failed" in shown
    assert "MODE: broken" in shown
    # Going back to a version whose setup worked repairs it, as a recorded rollback.
    styx("rollback", "hist", "1", "-y", "-q")
    assert json.loads(styx("history", "hist", "--json"))[-1]["result"] == "succeeded"


def test_a_killed_apply_leaves_no_record_claiming_success(styx: Runner) -> None:
    gate = styx.work / "gate"
    styx.task.write_text(TASK.format(nodes=1, mode="killed").replace(
        'echo "setup in $MODE mode"', f"while [ ! -e {gate} ]; do sleep 0.2; done"))
    versions = styx.home / "state/.styx/styx/hist/versions"
    known = set(versions.iterdir())
    env = {**os.environ, "STYX_HOME": str(styx.home), "TOKEN": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "styx", "apply", "hist.yaml", "--secret", "TOKEN", "-y", "-q"],
        cwd=styx.work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not set(versions.iterdir()) - known:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        (new,) = set(versions.iterdir()) - known
        assert json.loads(new.read_text())["result"] == "setup started"
        proc.kill()  # kill -9 in the middle of setup
        proc.wait(timeout=30)
    finally:
        gate.touch()  # the orphaned setup may end
    last = json.loads(styx("history", "hist", "--json"))[-1]
    assert last["result"].startswith("setup did not finish"), last


def test_teardown_is_a_version_and_stops_the_cost(styx: Runner) -> None:
    styx("down", "-s", "hist", "-y", "-q")
    history = json.loads(styx("history", "hist", "--json"))
    assert history[-1]["kind"] == "destroy" and history[-1]["summary"] == "teardown"
    report = json.loads(styx("cost-report", "--json"))
    cluster = next(c for c in report["clusters"] if c["cluster"] == "hist")
    assert cluster["state"] == "down" and cluster["hourly_now"] == 0.0
    text = styx("cost-report")
    assert "hist" in text and "Note:" in text
