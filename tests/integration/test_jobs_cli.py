"""Jobs through the real `styx` command: apply installs the agent; exec, queue, logs, cancel.

The tests share one 2-node local cluster (real engine, sshd, ansible, agent) and run in file
order. Each node offers 2 CPUs; `--cpus 1.5` makes jobs that cannot run two at once.
"""

from __future__ import annotations

import itertools
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

from styx.agent import agent as agent_module
from styx.jobs import AgentClient
from styx.workflow import cluster_client, cluster_ref

pytestmark = pytest.mark.integration

TASK = """\
name: jobs
num_nodes: 2
resources:
  cpus: 2
run: |
  if [ -n "$SHOW_ENV" ]; then env | grep -E '^SKYPILOT_' | cut -d= -f1 | sort; fi
  if [ -n "$DAEMON" ]; then setsid sleep 600 < /dev/null > /dev/null 2>&1 & fi
  if [ -n "$GATE" ]; then while [ ! -e "$HOME/$GATE" ]; do sleep 0.05; done; fi
  for i in $(seq 1 ${TICKS:-0}); do echo "tick $i on $SKYPILOT_NODE_RANK"; sleep 0.3; done
  sleep ${SLEEP:-0}
  echo "done on $SKYPILOT_NODE_RANK"
"""
# SkyPilot's documented variables for `run` (docs/source/running-jobs/environment-variables.rst),
# less SKYPILOT_SERVE_REPLICA_ID, which only a SkyServe replica gets.
SKYPILOT_RUN_VARIABLES = [
    "SKYPILOT_CLUSTER_INFO",
    "SKYPILOT_NODE_IPS",
    "SKYPILOT_NODE_RANK",
    "SKYPILOT_NUM_GPUS_PER_NODE",
    "SKYPILOT_NUM_NODES",
    "SKYPILOT_TASK_ID",
]


class Styx:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.work = home / "work"
        self.work.mkdir(parents=True)
        (self.work / "jobs.yaml").write_text(TASK)

    def env(self) -> dict[str, str]:
        return {**os.environ, "STYX_HOME": str(self.home / "h")}

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "styx", *args]

    def __call__(self, *args: str, code: int = 0) -> str:
        done = subprocess.run(
            self.argv(*args), capture_output=True, text=True, env=self.env(), cwd=self.work,
            timeout=300,
        )  # fmt: skip
        assert done.returncode == code, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr
        return done.stdout + done.stderr

    def stdout(self, *args: str) -> str:
        done = subprocess.run(
            self.argv(*args), capture_output=True, text=True, env=self.env(), cwd=self.work,
            timeout=300, check=True,
        )  # fmt: skip
        return done.stdout

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=self.env(), cwd=self.work,
        )  # fmt: skip

    def queue(self) -> dict[int, dict[str, Any]]:
        jobs = json.loads(self("queue", "jobs", "--json"))["jobs"]
        return {int(job["id"]): job for job in jobs}

    def client(self) -> AgentClient:
        """The library's client of the cluster's agent (for fast polling)."""
        saved = os.environ.get("STYX_HOME")
        os.environ["STYX_HOME"] = self.env()["STYX_HOME"]
        try:
            return cluster_client(cluster_ref("jobs"))
        finally:
            if saved is None:
                del os.environ["STYX_HOME"]
            else:
                os.environ["STYX_HOME"] = saved

    def detach(self, *args: str) -> int:
        out = self("exec", "jobs.yaml", "-d", *args)
        return int(out.split("Job ", 1)[1].split()[0])


@pytest.fixture(scope="module")
def styx() -> Iterator[Styx]:
    # A short STYX_HOME: connection masters' socket paths must fit in 107 bytes.
    home = Path(tempfile.mkdtemp(prefix="sxc-", dir="/tmp"))
    runner = Styx(home)
    runner("apply", "jobs.yaml", "-y", "-q")
    yield runner
    subprocess.run(runner.argv("down", "jobs.yaml", "-y", "-q"), env=runner.env(),
                   cwd=runner.work, capture_output=True, timeout=300, check=False)  # fmt: skip
    shutil.rmtree(home, ignore_errors=True)


def test_a_killed_exec_leaves_its_job_running_to_success(styx: Styx) -> None:
    follower = styx.start("exec", "jobs.yaml", "--env", "TICKS=8")
    assert follower.stdout is not None
    first = follower.stdout.readline()
    assert "tick 1" in first
    follower.send_signal(signal.SIGKILL)
    follower.wait()
    [job_id] = list(styx.queue())
    deadline = time.monotonic() + 60
    while styx.queue()[job_id]["state"] != "SUCCEEDED" and time.monotonic() < deadline:
        time.sleep(0.5)
    job = styx.queue()[job_id]
    assert job["state"] == "SUCCEEDED"
    assert [(n["node"], n["exit_code"]) for n in job["nodes"]] == [("head", 0), ("worker1", 0)]
    assert "exit 0" in styx("queue", "jobs", "--exit-codes")
    out = styx("logs", "jobs", str(job_id), "--no-follow")
    for rank, node in enumerate(("head", "worker1")):
        for i in range(1, 9):
            assert f"({node}) tick {i} on {rank}" in out
        assert f"({node}) done on {rank}" in out


def test_detached_jobs_run_fifo_one_at_a_time_and_a_small_one_alongside(styx: Styx) -> None:
    # Each big job waits for its gate file (on every node), so the test decides when it ends
    # however slow the machine is. Three are queued at once; the agent's ids give FIFO order.
    calls = {
        gate: styx.start("exec", "jobs.yaml", "-d", "--cpus", "1.5", "--env", f"GATE={gate}")
        for gate in ("gate-a", "gate-b", "gate-c")
    }
    gates = {}
    for gate, call in calls.items():
        out, err = call.communicate(timeout=300)
        assert call.returncode == 0, err
        gates[int(out.split("Job ", 1)[1].split()[0])] = gate
    big = sorted(gates)
    small = styx.detach("--cpus", "0.5", "--num-nodes", "1")
    client = styx.client()
    assert client.wait(small, timeout=120).state == "SUCCEEDED"
    seen = []
    for opened in range(4):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = [job.state for job in client.queue(big)]
            assert sum(s == "RUNNING" for s in states) <= 1, states
            if states.count("SUCCEEDED") == opened and "PENDING" not in states[: opened + 1]:
                break
            time.sleep(0.05)
        seen.append(states)
        if opened < 3:
            for rank in range(2):
                home = styx.home / "h" / "local" / "jobs" / ("head" if rank == 0 else "worker1")
                (home / "home" / gates[big[opened]]).touch()
    assert seen == [
        ["RUNNING", "PENDING", "PENDING"],
        ["SUCCEEDED", "RUNNING", "PENDING"],
        ["SUCCEEDED", "SUCCEEDED", "RUNNING"],
        ["SUCCEEDED"] * 3,
    ]
    jobs = styx.queue()
    for before, after in itertools.pairwise(big):
        assert jobs[after]["started_at"] >= jobs[before]["ended_at"]
    assert jobs[big[0]]["started_at"] <= jobs[small]["started_at"] < jobs[big[0]]["ended_at"]


def test_cancel_leaves_no_process_of_the_job(styx: Styx) -> None:
    job_id = styx.detach("--env", "DAEMON=1", "--env", "SLEEP=600")
    marker = f"jobs:{job_id}"
    try:
        # bash, sleep and the setsid sleep on each of the two nodes (slow on a loaded machine)
        deadline = time.monotonic() + 240
        while len(agent_module.marked_pids(marker, os.getpid())) < 6:
            assert time.monotonic() < deadline, agent_module.marked_pids(marker, os.getpid())
            time.sleep(0.1)
        assert f"Cancelled job(s) {job_id}" in styx("cancel", "jobs", str(job_id))
        assert agent_module.marked_pids(marker, os.getpid()) == []
        assert styx.queue()[job_id]["state"] == "CANCELLED"
    finally:
        styx.client().cancel([job_id])  # never leave it to block the next tests


def test_a_jobs_run_sees_skypilots_documented_variables(styx: Styx) -> None:
    out = styx("exec", "jobs.yaml", "--env", "SHOW_ENV=1")
    for node in ("head", "worker1"):
        names = [line.split(" ", 1)[1] for line in out.splitlines()
                 if line.startswith(f"({node}) SKYPILOT_")]  # fmt: skip
        assert names == SKYPILOT_RUN_VARIABLES
    # The logs were synced to the stack's folder, private to the user.
    log_dir = Path(out.split("logs in ", 1)[1].split()[0])
    for node in ("head", "worker1"):
        log = log_dir / f"{node}.log"
        assert log.stat().st_mode & 0o777 == 0o600
        assert "SKYPILOT_TASK_ID" in log.read_text()


def test_a_failing_job_names_its_node_and_last_lines(styx: Styx) -> None:
    task = styx.work / "jobs.yaml"
    fail = '  [ "$SKYPILOT_NODE_RANK" = 1 ] && { echo boom; exit 3; }\n'
    task.write_text(TASK.replace("run: |\n", "run: |\n" + fail))
    try:
        out = styx("exec", "jobs.yaml", code=1)
    finally:
        task.write_text(TASK)
    assert "failed on worker1 (exit code 3)" in out and "boom" in out
    assert "failed on head" not in out


def test_exec_reinstalls_an_agent_that_is_gone(styx: Styx) -> None:
    client = styx.client()
    client.call("stop")
    (styx.home / "h" / "local" / "jobs" / "head" / "home" / ".styx-agent" / "agent.py").unlink()
    out = styx("exec", "jobs.yaml")
    assert "(head) done on 0" in out and "(worker1) done on 1" in out
    assert client.call("status")["running"]


def test_a_plan_that_deletes_a_node_running_a_job_warns_in_every_format(styx: Styx) -> None:
    job_id = styx.detach("--env", "SLEEP=600")
    client = styx.client()
    deadline = time.monotonic() + 60
    while client.job(job_id).state != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
    warning = f"worker1 runs job {job_id} (jobs, running "
    kills = "this change deletes worker1 and kills it"
    try:
        text = styx("plan", "jobs.yaml", "--num-nodes", "1")
        assert warning in text and kills in text
        markdown = styx("plan", "jobs.yaml", "--num-nodes", "1", "--format", "markdown")
        assert warning in markdown and kills in markdown
        plan = json.loads(styx.stdout("plan", "jobs.yaml", "--num-nodes", "1", "--format", "json"))
        assert any(warning in w and kills in w for w in plan["warnings"])
        # The head's job is not at risk: no warning names it.
        assert "head runs job" not in text
        # `styx status` counts the cluster's jobs as its agent sees them.
        assert "1 run, 0 wait" in styx("status")
    finally:
        client.cancel([job_id])


def test_down_leaves_no_agent_and_no_job(styx: Styx) -> None:
    styx.detach("--env", "SLEEP=600")
    styx("down", "jobs.yaml", "-y", "-q")
    left = subprocess.run(["pgrep", "-f", str(styx.home)], capture_output=True, text=True)
    assert [p for p in left.stdout.split() if Path(f"/proc/{p}").exists()] == []
