"""Down kills what the node started, daemons included, and nothing it did not start."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest
from faultkit import Styx, alive, check, wait_for

pytestmark = pytest.mark.integration

TASK = """\
name: owned
num_nodes: 1
run: |
  setsid env -i sh -c 'cd /; exec sleep 600' </dev/null >/dev/null 2>&1 &
  echo $! > ~/daemon.pid
  nohup sleep 601 </dev/null >/dev/null 2>&1 &
  echo started
"""


def test_down_kills_a_daemonised_job_and_spares_a_bystander(
    make_styx: Callable[[str, str], Styx],
) -> None:
    styx = make_styx("owned", TASK)
    check(styx("apply", str(styx.task), "-y"))
    assert "(head) started" in check(styx("exec", str(styx.task)))
    home = styx.node_home("head")
    wait_for(lambda: (home / "daemon.pid").exists(), what="the daemon's pid")
    daemon = int((home / "daemon.pid").read_text())
    assert alive(daemon)
    # Someone else works inside the node's folder: not Styx's to kill.
    bystander = subprocess.Popen(["sleep", "600"], cwd=home, start_new_session=True)
    try:
        check(styx("down", str(styx.task), "-y"))
        assert not alive(daemon), "a daemonised job that cleared its environment survived down"
        assert bystander.poll() is None, "down killed a process it did not start"
    finally:
        bystander.kill()
        bystander.wait()
    assert styx.leftovers() == []


def test_a_cluster_whose_checkpoint_was_deleted_is_shown_and_torn_down(
    make_styx: Callable[[str, str], Styx],
) -> None:
    styx = make_styx("lost", "name: lost\nnum_nodes: 1\nrun: echo hi\n")
    check(styx("apply", str(styx.task), "-y"))
    for checkpoint in (styx.home / "state" / ".pulumi" / "stacks").rglob("lost.json*"):
        checkpoint.unlink()
    status = check(styx("status"))
    assert "lost" in status and "ORPHANED" in status, status
    assert "answers" in status  # its node still answers
    out = check(styx("down", "-s", "lost", "-y"))
    assert "is down" in out
    assert styx.leftovers() == []
