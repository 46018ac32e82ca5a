"""Clusters by name through the real `styx` command: status, exec (a command or a task, the
workdir synced), logs, and down, on one 2-node local cluster (engine, sshd, ansible, agent).

The tests share the cluster and run in file order; the last one tears it down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

NAME = "byname"
TASK = """\
name: byname
num_nodes: 2
workdir: ./wd
resources:
  cpus: 1
envs:
  GREETING: hello-from-the-task
setup: |
  echo setup done
run: |
  echo "rank $SKYPILOT_NODE_RANK reads $(cat data.txt)"
"""


class Styx:
    def __init__(self, root: Path) -> None:
        self.home = root / "h"
        self.work = root / "work"
        (self.work / "wd").mkdir(parents=True)
        (self.work / "wd" / "data.txt").write_text("first\n")
        (self.work / "task.yaml").write_text(TASK)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "STYX_HOME": str(self.home), "NO_COLOR": "1"}
        return subprocess.run(
            [sys.executable, "-m", "styx", *args], capture_output=True, text=True, env=env,
            cwd=self.work, timeout=600, check=False,
        )  # fmt: skip

    def __call__(self, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = self.run(*args)
        assert done.returncode == code, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def node_home(self, node: str) -> Path:
        return self.home / "local" / NAME / node / "home"


@pytest.fixture(scope="module")
def styx() -> Iterator[Styx]:
    root = Path(tempfile.mkdtemp(prefix="styx-byname-"))
    runner = Styx(root)
    runner("apply", "task.yaml", "-y", "-q")
    try:
        yield runner
    finally:
        runner.run("down", NAME, "-y", "-q")


def _one_red_line(done: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for part in parts:
        assert part in lines[0], lines[0]


def test_status_by_name_shows_what_sky_status_shows(styx: Styx) -> None:
    out = styx("status", NAME).stdout
    header, row = out.splitlines()[:2]
    for column in ("CLUSTER", "INFRA", "RESOURCES", "STATE", "LAUNCHED", "AUTOSTOP", "JOBS",
                   "$/HOUR"):  # fmt: skip
        assert column in header
    cells = row.split("  ")
    assert cells[0] == NAME
    assert "local" in row and "2x (cpus=1)" in row and " UP " in row
    assert "0 run, 0 wait" in row and "$0.00" in row
    # Columns line up: each header starts where its values start.
    assert row.index("UP") == header.index("STATE")
    assert row.index("$0.00") == header.index("$/HOUR")


def test_status_json_is_typed_and_launched_is_the_first_apply(styx: Styx) -> None:
    [before] = json.loads(styx("status", "--json", NAME).stdout)
    assert before["state"] == "UP" and before["cloud"] == "local"
    assert before["num_nodes"] == 2 and before["cpus"] == 1.0
    assert before["resources"] == "2x (cpus=1)"
    assert before["jobs_running"] == 0 and before["jobs_pending"] == 0
    assert before["cost_per_hour_now"] == 0.0
    assert [n["setup"] for n in before["nodes"]] == ["ok", "ok"]
    assert all(n["reachable"] for n in before["nodes"])
    launched = datetime.fromisoformat(before["launched_at"])
    # A second apply (envs changed) is the last update, not the launch.
    styx("apply", "task.yaml", "-y", "-q", "--env", "GREETING=changed")
    [after] = json.loads(styx("status", "--json", NAME).stdout)
    assert datetime.fromisoformat(after["launched_at"]) == launched
    assert datetime.fromisoformat(after["last_update"]) > launched


def test_status_refresh_reads_each_nodes_own_setup_record(styx: Styx) -> None:
    record = styx.node_home("worker1") / ".styx" / "setup.outcome"
    saved = record.read_text()
    record.write_text("failed 0123 setup-x\n")  # as a setup that failed after Styx died
    try:
        assert " UP " in styx("status", NAME).stdout  # the backend's record says ok
        refreshed = styx("status", NAME, "--refresh").stdout
        assert " INIT " in refreshed and "worker1" in refreshed and "setup failed" in refreshed
    finally:
        record.write_text(saved)
    assert " UP " in styx("status", NAME, "-r").stdout


def test_exec_a_command_by_name_with_the_clusters_envs(styx: Styx) -> None:
    done = styx("exec", NAME, "echo hi $GREETING from $SKYPILOT_NODE_RANK in $(basename $PWD)")
    assert "(head) hi changed from 0 in sky_workdir" in done.stdout
    assert "worker1" not in done.stdout  # a command runs on the head unless --num-nodes says
    both = styx("exec", NAME, "--num-nodes", "2", "--env", "GREETING=flag", "echo", "$GREETING")
    assert "(head) flag" in both.stdout and "(worker1) flag" in both.stdout
    _one_red_line(styx.run("exec", NAME, "--instance-type", "m6i.large", "true"),
                  "--instance-type")


def test_exec_and_queue_load_no_engine_ansible_or_plan_diff(styx: Styx) -> None:
    # exec is the command users repeat: its outputs come from the file backend's checkpoint,
    # so neither the Automation API nor ansible nor the plan's diff machinery is imported.
    heavy = {"pulumi", "grpc", "ansible_runner", "deepdiff", "jsonschema"}
    for args in (("exec", NAME, "true"), ("queue", NAME)):
        env = {**os.environ, "STYX_HOME": str(styx.home), "NO_COLOR": "1"}
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "styx", *args],
                              capture_output=True, text=True, env=env, cwd=styx.work,
                              timeout=300, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                  for line in done.stderr.splitlines() if line.startswith("import time:")}
        assert "styx" in loaded
        assert sorted(loaded & heavy) == [], args


def test_the_checkpoint_read_equals_the_engines_outputs(styx: Styx) -> None:
    code = (
        "import json\n"
        "from styx.engine import StackOps, StackRef, default_backend_url, open_stack, "
        "recorded_outputs\n"
        f"ref = StackRef('styx', {NAME!r}, default_backend_url())\n"
        "print(json.dumps([recorded_outputs(ref), StackOps(open_stack(ref, create=False))"
        ".outputs()]))\n"
    )
    env = {**os.environ, "STYX_HOME": str(styx.home)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    ours, engines = json.loads(done.stdout)
    assert ours == engines and ours["nodes"], (ours, engines)


def test_exec_syncs_a_changed_workdir_first_and_says_what(styx: Styx) -> None:
    (styx.work / "wd" / "data.txt").write_text("second\n")
    (styx.work / "wd" / "more.txt").write_text("x" * 1000)
    done = styx("exec", "task.yaml", "--env", "GREETING=changed")
    assert "synced workdir" in done.stderr and "2 file(s)" in done.stderr, done.stderr
    assert "head, worker1" in done.stderr
    assert "(head) rank 0 reads second" in done.stdout
    assert "(worker1) rank 1 reads second" in done.stdout
    assert (styx.node_home("worker1") / "sky_workdir" / "more.txt").read_text() == "x" * 1000
    # Nothing changed since: nothing is sent.
    again = styx("exec", NAME, "task.yaml", "--env", "GREETING=changed")
    assert "unchanged on every node" in again.stderr, again.stderr
    assert "(worker1) rank 1 reads second" in again.stdout


def test_a_word_that_is_both_a_file_and_a_cluster_is_the_file_and_said(styx: Styx) -> None:
    (styx.work / NAME).write_text(TASK)  # a task file named like the cluster
    try:
        done = styx("exec", NAME, "--env", "GREETING=changed", "-d")
        assert "both a task file here and a cluster's name: using the task file" in done.stderr
        assert f"queued on {NAME}" in done.stdout
    finally:
        (styx.work / NAME).unlink()


def test_unknown_names_are_one_line_listing_the_known_clusters(styx: Styx) -> None:
    for args in (("status", "nope"), ("exec", "nope", "echo hi"), ("down", "nope", "-y"),
                 ("logs", "nope"), ("queue", "nope"), ("cancel", "nope", "--all")):  # fmt: skip
        _one_red_line(styx.run(*args), "no cluster named 'nope'", f"known clusters: {NAME}")
    _one_red_line(styx.run("exec", "missing.yaml"), "task file missing.yaml does not exist")
    _one_red_line(styx.run("exec", NAME), f"{NAME} is a cluster: name what to run on it")


def test_cluster_option_names_the_stack_of_plan(styx: Styx) -> None:
    plan = styx("plan", "task.yaml", "-c", "another").stdout
    assert "Stack styx/another" in plan and "create" in plan
    # A plan makes no machines: the new stack is DOWN, shown only with -a.
    assert "another" not in styx("status").stdout
    assert "another" in styx("status", "-a").stdout


def test_down_by_name_then_status_hides_it_unless_all(styx: Styx) -> None:
    done = styx("down", NAME, "-y")
    assert f"styx/{NAME} is down" in done.stdout
    assert NAME not in styx("status").stdout
    assert " DOWN " in styx("status", "-a").stdout
    [row] = json.loads(styx("status", "--json", NAME).stdout)
    assert row["state"] == "DOWN" and row["cost_per_hour_now"] == 0.0
    assert row["launched_at"] is None
