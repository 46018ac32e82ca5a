"""Two commands on one stack at once: one proceeds, the other stops naming the holder.

Pairs: apply+apply, apply+exec, apply+down, down+exec (and exec+down). A job never starts on
a half-set-up node, and nothing is corrupted: the plan afterwards has nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from faultkit import Styx, wait_for

pytestmark = pytest.mark.integration

TASK = """\
name: both
num_nodes: 2
envs:
  V: "1"
setup: |
  touch ~/setup-began
  while [ ! -f ~/release-setup ]; do sleep 0.2; done
  echo "$V" > ~/setup-done
run: |
  cat ~/setup-done || echo "HALF-SET-UP NODE"
  touch ~/job-began
  while [ ! -f ~/release-job ]; do sleep 0.2; done
"""


def _release(styx: Styx, what: str) -> None:
    """Let setup or the job finish on every node: the test decides when, not the clock."""
    for node in ("head", "worker1"):
        (styx.node_home(node) / f"release-{what}").touch()


def _locked_by(styx: Styx, operation: str) -> Callable[[], bool]:
    def held() -> bool:
        try:
            return f'"operation": "{operation}"' in styx.lock_file.read_text()
        except OSError:
            return False

    return held


def _refused(proc_result: object, holder: str) -> None:
    result = proc_result
    assert result.returncode == 1, (result.stdout, result.stderr)  # type: ignore[attr-defined]
    err = result.stderr  # type: ignore[attr-defined]
    assert "is locked by" in err and f"styx {holder}" in err, err
    assert "Traceback" not in err


def test_one_proceeds_the_other_names_the_holder(make_styx: Callable[[str, str], Styx]) -> None:
    styx = make_styx("both", TASK)
    task = str(styx.task)

    # apply + apply, apply + exec, apply + down: the apply holds the lock from plan to setup.
    first = styx.start("apply", task, "-y")
    wait_for(_locked_by(styx, "apply"), what="the first apply to take the lock")
    _refused(styx("apply", task, "-y"), "apply")
    wait_for(lambda: (styx.node_home("head") / "setup-began").exists(), what="setup to begin")
    exec_during = styx("exec", task)
    _refused(exec_during, "apply")
    assert "HALF-SET-UP" not in exec_during.stdout
    _refused(styx("down", task, "-y"), "apply")
    _release(styx, "setup")
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, out + err

    # exec + down and down + exec: jobs hold the lock shared; down takes it whole.
    job = styx.start("exec", task)
    wait_for(lambda: (styx.node_home("head") / "job-began").exists(), what="the job to start")
    _refused(styx("down", task, "-y"), "exec")
    _release(styx, "job")
    out, err = job.communicate(timeout=600)
    assert job.returncode == 0, out + err
    assert "HALF-SET-UP" not in out
    (styx.node_home("head") / "setup-began").unlink()
    styx.task.write_text(TASK.replace('V: "1"', 'V: "2"'))
    down = styx.start("down", task, "-y")
    wait_for(_locked_by(styx, "down"), what="down to take the lock")
    _refused(styx("exec", task), "down")
    out, err = down.communicate(timeout=600)
    assert down.returncode == 0, out + err
    assert styx.leftovers() == []
