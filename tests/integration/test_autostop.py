"""Autostop and stop/start through the real `styx` command on a 2-node local cluster.

Real engine, sshd, ansible and the head's agent; a "minute" of autostop lasts
STYX_AUTOSTOP_SECONDS_PER_MINUTE seconds. The tests share one cluster and run in file order:
stop/start by hand first (no autostop yet), then autostop is set while a job runs, kept off
by a job, an agent killed with -9 and a slow setup, and finally fires; start brings the
cluster back. Gate files (in the nodes' homes) decide when jobs and setup end, so nothing
depends on how fast the machine is; only "still up" is checked over a span of idle minutes.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

SECONDS_PER_MINUTE = 6.0
TASK = """\
name: idle
num_nodes: 2
resources:
  cpus: 0.5
setup: |
  if [ -n "$SETUP_GATE" ]; then while [ ! -e "$HOME/$SETUP_GATE" ]; do sleep 0.1; done; fi
  echo setup done
run: |
  if [ -n "$GATE" ]; then while [ ! -e "$HOME/$GATE" ]; do sleep 0.1; done; fi
  echo "ran on $SKYPILOT_NODE_RANK"
"""


class Styx:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.work = home / "work"
        self.work.mkdir(parents=True)
        (self.work / "idle.yaml").write_text(TASK)

    def env(self) -> dict[str, str]:
        return {**os.environ, "STYX_HOME": str(self.home / "h"),
                "STYX_AUTOSTOP_SECONDS_PER_MINUTE": str(SECONDS_PER_MINUTE)}  # fmt: skip

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "styx", *args]

    def __call__(self, *args: str, code: int = 0) -> str:
        done = subprocess.run(self.argv(*args), capture_output=True, text=True, env=self.env(),
                              cwd=self.work, timeout=300)  # fmt: skip
        assert done.returncode == code, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr
        return done.stdout + done.stderr

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.argv(*args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env(),
                                cwd=self.work)  # fmt: skip

    def status(self, cluster: str = "idle") -> dict[str, Any]:
        rows = json.loads(self("status", "--json", "-a"))  # -a: autodown leaves it DOWN
        return next(r for r in rows if r["cluster"] == cluster)

    def node_home(self, node: str, cluster: str = "idle") -> Path:
        return self.home / "h" / "local" / cluster / node / "home"

    def open_gate(self, gate: str) -> None:
        for node in ("head", "worker1"):
            (self.node_home(node) / gate).touch()

    def terminal_on_head(self) -> subprocess.Popen[bytes]:
        """`ssh -tt` to the head, as a person would log in (a pseudo-terminal, a shell)."""
        head = self.status()["nodes"][0]
        key = self.home / "h" / "local" / "idle" / "keys" / "id_ed25519"
        session = subprocess.Popen(
            ["ssh", "-tt", "-F", "/dev/null", "-i", str(key), "-o", "IdentitiesOnly=yes",
             "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
             "-o", "LogLevel=ERROR", "-p", str(head["port"]),
             f"{getpass.getuser()}@{head['address']}", "sleep 600"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(2)
        assert session.poll() is None, "the SSH session did not open"
        return session

    def stays_up(self, minutes: float) -> None:
        """The cluster answers all along `minutes` idle minutes (the test's only wait).

        INIT counts as up: its nodes run while a (slow) setup has not finished.
        """
        deadline = time.monotonic() + minutes * SECONDS_PER_MINUTE
        while time.monotonic() < deadline:
            assert self.status()["state"] in ("UP", "INIT")
            time.sleep(1)

    def wait_for_state(self, state: str, cluster: str = "idle",
                       limit: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + limit
        while True:
            row = self.status(cluster)
            if row["state"] == state or time.monotonic() > deadline:
                return row
            time.sleep(1)


@pytest.fixture(scope="module")
def styx() -> Iterator[Styx]:
    # A short STYX_HOME: connection masters' socket paths must fit in 107 bytes.
    home = Path(tempfile.mkdtemp(prefix="sxa-", dir="/tmp"))
    runner = Styx(home)
    runner("apply", "idle.yaml", "-y", "-q")
    yield runner
    for stack in ("idle", "gone"):
        subprocess.run(runner.argv("down", "idle.yaml", "-s", stack, "-y", "-q"),
                       env=runner.env(), cwd=runner.work, capture_output=True, timeout=300,
                       check=False)  # fmt: skip
    shutil.rmtree(home, ignore_errors=True)


def _job_id(out: str) -> int:
    return int(out.split("Job ", 1)[1].split()[0])


def test_stop_then_start_are_plan_changes(styx: Styx) -> None:
    # By name, as `sky stop idle`: the task its last version applied, from the backend.
    out = styx("stop", "idle", "-y")
    assert out.count('~ state: "running" -> "stopped"') == 2, out
    assert "cost $0.00/h -> $0.00/h" in out
    row = styx.status()
    assert (row["state"], row["state_detail"]) == ("STOPPED", "stopped by `styx stop`")
    # The folders stay: the nodes' setup record with them.
    assert (styx.node_home("worker1") / ".styx" / "setup.digest").is_file()
    refused = styx("exec", "idle.yaml", code=1)
    assert "cluster idle is stopped (stopped by `styx stop`): start it with " \
           "`styx start idle.yaml`, then exec again" in refused
    out = styx("start", "idle.yaml", "-y")
    assert out.count('~ state: "stopped" -> "running"') == 2, out
    assert "setup runs" not in out  # setup inputs unchanged: the nodes kept their setup
    assert styx.status()["state"] == "UP"
    assert "(worker1) ran on 1" in styx("exec", "idle.yaml")


def test_autostop_waits_for_jobs_a_restarted_agent_and_a_slow_setup(styx: Styx) -> None:
    job = _job_id(styx("exec", "idle.yaml", "-d", "--env", "GATE=job-gate"))
    out = styx("autostop", "idle.yaml", "-i", "1", "-y")
    assert ("autostop: none -> 1m idle, stop; a $0.00/h cluster stops costing compute 1m "
            "after its last job and SSH session (the head's agent is re-configured, no setup) "
            "[head]") in out
    assert "Plan: 0 to create, 0 to update" in out
    styx.stays_up(2.5)
    # kill -9 of the agent, then a restart: the job it lost track of still keeps the cluster up.
    pid_file = styx.node_home("head") / ".styx-agent" / "agent.pid"
    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
    styx("exec", "idle.yaml", "-d")  # a submit finds the agent down and starts it again
    styx.stays_up(2)
    # A changed env re-runs setup, which waits for its gate: setup time is never idle time.
    apply = styx.start("apply", "idle.yaml", "-i", "1", "--env", "SETUP_GATE=setup-gate",
                       "-y", "-q")
    try:
        outcome = styx.node_home("head") / ".styx" / "setup.outcome"
        deadline = time.monotonic() + 240
        while not (outcome.is_file() and outcome.read_text().startswith("started")):
            assert time.monotonic() < deadline
            if apply.poll() is not None:
                why = "".join(apply.communicate())
                pytest.fail(f"the apply ended before its setup started: {why}")
            time.sleep(0.2)
        styx.open_gate("job-gate")
        styx.stays_up(2.5)
        jobs = {j["id"]: j for j in json.loads(styx("queue", "idle", "--json"))["idle"]}
        assert jobs[job]["state"] == "SUCCEEDED"
        # An interactive SSH session (a terminal) on the head counts too (wait_for jobs_and_ssh,
        # SkyPilot's default); Styx's own calls, made all along by `styx status`, do not.
        session = styx.terminal_on_head()
        try:
            styx.open_gate("setup-gate")
            out, err = apply.communicate(timeout=300)
            assert apply.returncode == 0, out + err
            assert "setup ran on 2" in out
            styx.stays_up(2.5)
        finally:
            session.kill()
            session.wait()
    finally:  # a failed check must not leave the apply waiting on its gate
        if apply.poll() is None:
            apply.terminate()
            apply.communicate(timeout=120)


def test_an_idle_cluster_stops_and_says_so(styx: Styx) -> None:
    row = styx.wait_for_state("STOPPED")
    assert row["state"] == "STOPPED", row
    assert row["state_detail"].startswith("autostopped at ")
    assert row["state_detail"].endswith(" after 1 idle min")
    assert "STOPPED: autostopped at" in styx("status")
    plan = styx("plan", "idle.yaml", "--env", "SETUP_GATE=setup-gate", "--refresh")
    assert "Drift (changed outside Styx, found by refresh):" in plan
    assert "idle was stopped by autostop at" in plan
    refused = styx("exec", "idle.yaml", code=1)
    assert "cluster idle is stopped (autostopped at" in refused
    assert "start it with `styx start idle.yaml`" in refused


def test_start_brings_back_nodes_agent_and_queue(styx: Styx) -> None:
    out = styx("start", "idle.yaml", "--env", "SETUP_GATE=setup-gate", "-y")
    assert "setup ran on 0" in out  # the nodes kept their setup
    row = styx.status()
    assert (row["state"], row["state_detail"]) == ("UP", None)
    ran = styx("exec", "idle.yaml", "--env", "SETUP_GATE=setup-gate")
    assert "(head) ran on 0" in ran and "(worker1) ran on 1" in ran
    jobs = json.loads(styx("queue", "idle", "--json"))["idle"]
    assert len(jobs) >= 4  # the queue of the cluster's first life is still there


def test_autodown_tears_the_nodes_down(styx: Styx) -> None:
    styx("apply", "idle.yaml", "-s", "gone", "--num-nodes", "1", "-i", "1", "--down", "-y", "-q")
    row = styx.wait_for_state("DOWN", cluster="gone")
    assert row["state"] == "DOWN", row
    assert row["state_detail"].startswith("autodown at ")
    assert not (styx.home / "h" / "local" / "gone" / "head").exists()
    plan = styx("plan", "idle.yaml", "-s", "gone", "--num-nodes", "1", "-i", "1", "--down",
                "--refresh")
    assert "gone" in plan and "torn down by autodown at" in plan
