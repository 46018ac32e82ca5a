"""The main job end to end on the local cloud: the real engine, real sshd, real ansible-runner.

The tests share one cluster and run in file order, as a user would: launch, plan, grow,
change setup, drift, a failing job, a concurrent apply, down.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HELLO = (ROOT / "examples" / "hello.yaml").read_text()


class Styx:
    """Runs the real `styx` command in an isolated STYX_HOME."""

    def __init__(self, home: Path, work: Path) -> None:
        self.home = home
        self.work = work
        self.task = work / "hello.yaml"
        self.task.write_text(HELLO)

    def env(self) -> dict[str, str]:
        return {**os.environ, "STYX_HOME": str(self.home)}

    def __call__(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "styx", *args],
            capture_output=True, text=True, env=self.env(), cwd=self.work, timeout=timeout,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "styx", *args], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=self.env(), cwd=self.work,
        )

    def edit(self, old: str, new: str) -> None:
        text = self.task.read_text()
        assert old in text
        self.task.write_text(text.replace(old, new))

    def resources(self) -> list[dict[str, object]]:
        state = next((self.home / "state" / ".pulumi" / "stacks").rglob("hello.json"))
        resources = json.loads(state.read_text())["checkpoint"]["latest"].get("resources", [])
        assert isinstance(resources, list)
        return resources

    def outputs(self) -> dict[str, object]:
        stack = next(r for r in self.resources() if r["type"] == "pulumi:pulumi:Stack")
        return dict(stack.get("outputs", {}))  # type: ignore[call-overload]

    def server_pid(self, node: str) -> int:
        """The node's sshd pid, as the node resource recorded it."""
        urn_end = f"::hello-{node}"
        found = next(r for r in self.resources() if str(r["urn"]).endswith(urn_end))
        return int(found["outputs"]["pid"])  # type: ignore[index]


@pytest.fixture(scope="module")
def styx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Styx]:
    base = tmp_path_factory.mktemp("e2e")
    (base / "home").mkdir()
    (base / "work").mkdir()
    runner = Styx(base / "home", base / "work")
    yield runner
    runner("down", "hello.yaml", "-y", "-q", timeout=300)  # never leave nodes behind


def nodes(styx: Styx) -> list[dict[str, object]]:
    found = styx.outputs()["nodes"]
    assert isinstance(found, list)
    return found


def answers(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


def alive(pid: int) -> bool:
    """Whether a process runs; a zombie (dead, waiting for PID 1 to reap it) does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def check(proc: subprocess.CompletedProcess[str], code: int = 0) -> str:
    assert proc.returncode == code, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


def test_launch_runs_the_job_on_every_node(styx: Styx) -> None:
    out = check(styx("launch", "hello.yaml", "-y"))
    assert "(head) hello from node 0 of 2" in out
    assert "(worker1) hello from node 1 of 2" in out
    addresses = [str(n["address"]) for n in nodes(styx)]
    for address in addresses:
        assert address in out  # SKYPILOT_NODE_IPS lists every node
    # Node homes live under STYX_HOME, never in the real home.
    assert (styx.home / "local" / "hello" / "head").is_dir()


def test_plan_right_after_shows_no_changes(styx: Styx) -> None:
    out = check(styx("plan", "hello.yaml", "--detailed-exitcode"), 0)
    assert "No changes." in out
    # No source positions of Styx's own files in the state (styx/clouds/_sdk.py): they were
    # half of a node's bytes and one machine's paths; the node's state keeps every input.
    resources = styx.resources()
    assert [r["urn"] for r in resources if "stackTrace" in r or "sourcePosition" in r] == []
    head = next(r for r in resources if str(r["urn"]).endswith("::hello-head"))
    assert {"cluster", "root", "authorized_key", "pid", "home"} <= set(head["outputs"])  # type: ignore[arg-type]


def test_growing_to_three_nodes_creates_one_and_sets_up_one(styx: Styx) -> None:
    styx.edit("num_nodes: 2", "num_nodes: 3")
    out = check(styx("plan", "hello.yaml", "--detailed-exitcode"), 2)
    assert "Plan: 1 to create, 0 to update, 0 to replace, 0 to delete; setup runs on 1 node;" in out
    assert "hello-worker2  create" in out
    styx.edit("num_nodes: 3", "num_nodes: 2")


def test_changing_setup_plans_a_rerun_and_no_infrastructure(styx: Styx) -> None:
    styx.edit('echo "setting up node', 'echo "setting up (v2) node')
    out = check(styx("plan", "hello.yaml", "--detailed-exitcode"), 2)
    assert "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete" in out
    assert "setup changed: setup re-runs on 2 nodes" in out
    check(styx("apply", "hello.yaml", "-y"))
    out = check(styx("plan", "hello.yaml", "--detailed-exitcode"), 0)


def test_a_node_killed_outside_is_drift_and_apply_brings_it_back(styx: Styx) -> None:
    worker = next(n for n in nodes(styx) if n["name"] == "worker1")
    os.kill(styx.server_pid("worker1"), signal.SIGTERM)
    address, port = str(worker["address"]), int(str(worker["port"]))
    deadline = time.monotonic() + 10
    while answers(address, port) and time.monotonic() < deadline:
        time.sleep(0.1)
    out = check(styx("plan", "hello.yaml", "--refresh", "--detailed-exitcode"), 2)
    assert "Drift" in out and "hello-worker1  drifted" in out
    assert '"running" -> "stopped"' in out
    check(styx("apply", "hello.yaml", "-y"))
    assert answers(address, port)


def test_a_failing_job_names_the_node_and_its_last_lines(styx: Styx) -> None:
    fail_on_rank_1 = 'if [ "$SKYPILOT_NODE_RANK" = 1 ]; then echo boom-1; exit 3; fi'
    styx.edit("run: |\n", f"run: |\n  {fail_on_rank_1}\n")
    proc = styx("exec", "hello.yaml")
    check(proc, 1)
    assert "failed on worker1 (exit code 3)" in proc.stderr
    assert "boom-1" in proc.stderr
    assert "failed on head" not in proc.stderr


def test_a_second_apply_at_once_finds_the_stack_locked(styx: Styx) -> None:
    styx.edit('echo "setting up (v2) node', 'echo "setting up (v3) node')
    first = styx.start("apply", "hello.yaml", "-y", "--no-refresh")
    # Styx holds the stack's lock from plan to the end of setup and writes its holder.
    lock = styx.home / "stacks" / "styx" / "hello" / "styx.lock"
    deadline = time.monotonic() + 60
    while not (lock.is_file() and lock.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = styx("apply", "hello.yaml", "-y", "--no-refresh")
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, out + err
    assert second.returncode == 1
    assert "is locked" in second.stderr and "Traceback" not in second.stderr
    check(styx("plan", "hello.yaml", "--detailed-exitcode"), 0)  # nothing corrupted


def test_down_leaves_no_process_no_port_no_lock(styx: Styx) -> None:
    before = nodes(styx)
    pids = [styx.server_pid(str(n["name"])) for n in before]
    check(styx("down", "hello.yaml", "-y"))
    for node, pid in zip(before, pids, strict=True):
        assert not answers(str(node["address"]), int(str(node["port"])))
        assert not alive(pid)
    assert not list((styx.home / "state" / ".pulumi" / "locks").rglob("*.json"))
    assert not (styx.home / "local" / "hello" / "head").exists()
    leftovers = subprocess.run(["pgrep", "-f", str(styx.home)], capture_output=True, text=True)
    running = [int(p) for p in leftovers.stdout.split() if alive(int(p))]
    assert running == [], "no process of the cluster may outlive down"
