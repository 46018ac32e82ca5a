"""kill -9 and Ctrl-C (SIGINT to the styx process alone) at every phase of apply, exec, down.

One cluster per signal goes through the phases in order, as a user would meet them:
apply killed (a) while the engine creates nodes, (b) between the update and setup, (c)
during setup; then an apply that converges; exec killed mid-job; down killed mid-destroy;
then a down that converges. After each fault: the styx process ends (130 and one line of
what goes on running for SIGINT), every helper it started ends with it, the next plan tells
the truth, and at the end nothing of the cluster is left on the host.

The measured outcomes are written to $STYX_FAULT_MATRIX (JSON lines) when it is set.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from faultkit import Styx, check, stop, wait_for

pytestmark = pytest.mark.integration

TASK = """\
name: {name}
num_nodes: 2
envs:
  ROUND: "1"
setup: |
  touch ~/setup-began
  sleep 6
  echo ok > ~/setup-done
run: |
  touch ~/job-began
  sleep 600
"""


class Matrix:
    """The fault × command → outcome rows this run measured."""

    def __init__(self, signum: int) -> None:
        self.signal = "SIGKILL" if signum == signal.SIGKILL else "SIGINT"
        self.rows: list[dict[str, object]] = []

    def add(self, command: str, phase: str, **outcome: object) -> None:
        row = {"fault": self.signal, "command": command, "phase": phase, **outcome}
        self.rows.append(row)
        target = os.environ.get("STYX_FAULT_MATRIX")
        if target:
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")


def _killed(styx: Styx, proc: object, signum: int, matrix: Matrix, command: str,
            phase: str) -> str:  # fmt: skip
    """Signal the command, check how it ended and that its helpers ended with it."""
    code, err = stop(proc, signum)  # type: ignore[arg-type]
    if signum == signal.SIGKILL:
        assert code == -signal.SIGKILL
    else:
        assert code == 130, err
        assert "Interrupted." in err
        assert "Traceback" not in err, err
        assert len(err.split("Interrupted.", 1)[1].strip().splitlines()) == 1, err
    # The engine finishes its steps in flight; ansible and ssh stop at once.
    wait_for(lambda: not styx.helpers(), 300, f"the helpers of {command} to end")
    assert not (styx.lock_file.exists() and "pid" in styx.lock_file.read_text()
                and _holder_alive(styx.lock_file))  # fmt: skip
    plan = styx("plan", str(styx.task), "--detailed-exitcode")
    assert plan.returncode in (0, 2), plan.stderr
    matrix.add(command, phase, exit=code, said=err.strip().splitlines()[-1] if err.strip() else "",
               plan_exit=plan.returncode)  # fmt: skip
    return plan.stdout


def _until(proc: subprocess.Popen[str], cond: Callable[[], bool], what: str) -> None:
    """Wait for `cond` while the command runs: a command that ended first fails at once,
    and one that is still running when the wait times out shows what it said so far.

    How long it took goes to stderr (-s shows it): a measurement, never asserted.
    """
    began = time.monotonic()

    def ready() -> bool:
        if cond():
            return True
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the command ended (exit {proc.returncode}) before {what}:"
                                 f"\n{out}\n{err}")  # fmt: skip
        return False

    try:
        wait_for(ready, what=what)
    except AssertionError as timed_out:
        # Still running: what it said last shows where it is (engine, node records, ansible).
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"{timed_out}; the command, still running, said:\n"
                             f"{out[-2000:]}\n{err[-4000:]}") from None  # fmt: skip
    print(f"[{time.strftime('%H:%M:%S')}] {what}: after {time.monotonic() - began:.0f}s",
          file=sys.stderr)  # fmt: skip


def _holder_alive(lock_file: Path) -> bool:
    try:
        pid = int(json.loads(lock_file.read_text())["pid"])
    except (ValueError, KeyError):
        return False
    return Path(f"/proc/{pid}").exists()


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "sigint"])
def test_faults_at_every_phase_then_converge(
    signum: int, make_styx: Callable[[str, str], Styx]
) -> None:
    name = "fkill" if signum == signal.SIGKILL else "fint"
    styx = make_styx(name, TASK.format(name=name))
    matrix = Matrix(signum)

    # (a) while the engine creates the nodes: a node folder appears.
    proc = styx.start("apply", str(styx.task), "-y")
    _until(proc, lambda: (styx.cluster_dir / "head").exists() or
           (styx.cluster_dir / "worker1").exists(), "a node being created")  # fmt: skip
    plan = _killed(styx, proc, signum, matrix, "apply", "engine up")
    assert "setup runs on 2 nodes" in plan  # nothing was set up, whatever got created

    # (b) after the update, before setup: the outcome record says "started".
    proc = styx.start("apply", str(styx.task), "-y")
    _until(proc, lambda: bool(styx.outcomes()) and all(
        o["status"] == "started" for o in styx.outcomes().values()), "setup to be recorded")
    plan = _killed(styx, proc, signum, matrix, "apply", "between up and setup")
    assert "setup re-runs on head, worker1 (last attempt" in plan, plan
    assert "Plan: 0 to create" in plan

    # (c) during setup: setup has begun on the head node. The kill in (b) may land after
    # ansible started setup, which then finishes on the node (and the node records it): a
    # changed setup input makes this apply run setup whatever (b) left behind.
    styx.task.write_text(TASK.format(name=name).replace('ROUND: "1"', 'ROUND: "2"'))
    for node in ("head", "worker1"):
        (styx.node_home(node) / "setup-began").unlink(missing_ok=True)
    proc = styx.start("apply", str(styx.task), "-y")
    _until(proc, lambda: (styx.node_home("head") / "setup-began").exists(), "setup to begin")
    plan = _killed(styx, proc, signum, matrix, "apply", "during setup")
    assert "setup re-runs on head, worker1 (last attempt" in plan, plan

    # The next apply converges with no manual step.
    # (Setup left running by the killed apply may have finished since: the nodes' own
    # records, read by apply's refresh, then say so and nothing re-runs.)
    check(styx("apply", str(styx.task), "-y"))
    check(styx("plan", str(styx.task), "--detailed-exitcode"), 0)
    assert {o["status"] for o in styx.outcomes().values()} == {"ok"}

    # exec killed mid-job: the job goes on (recorded by the job queue), the plan is unchanged.
    proc = styx.start("exec", str(styx.task))
    _until(proc, lambda: (styx.node_home("head") / "job-began").exists(), "the job to start")
    plan = _killed(styx, proc, signum, matrix, "exec", "mid-job")
    assert "No changes" in plan

    # down killed mid-destroy: a node is gone, the rest is not.
    proc = styx.start("down", str(styx.task), "-y")
    _until(proc, lambda: not all((styx.cluster_dir / n).exists() for n in ("head", "worker1")),
           "a node to be destroyed")
    plan = _killed(styx, proc, signum, matrix, "down", "mid-destroy")
    assert "to create" in plan and "Plan: 0 to create" not in plan

    # The next down converges: no process, port, folder, network entry or lock is left.
    check(styx("down", str(styx.task), "-y"))
    assert styx.leftovers() == []
    matrix.add("down", "after the faults", leftovers=[])
