"""A setup that failed is remembered: the plan shows it, exec refuses, apply re-runs it.

The reproduction from issue 10: setup fails the first time and succeeds the second.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from faultkit import Styx, check

pytestmark = pytest.mark.integration

TASK = """\
name: flaky
num_nodes: 2
setup: |
  if [ ! -f ~/attempted ]; then touch ~/attempted; exit 1; fi
  echo configured > ~/setup-marker
run: cat ~/setup-marker || echo "SETUP NEVER SUCCEEDED"
"""


def test_a_failed_setup_shows_in_the_plan_blocks_exec_and_is_re_run(
    make_styx: Callable[[str, str], Styx],
) -> None:
    styx = make_styx("flaky", TASK)
    failed = styx("apply", "flaky.yaml", "-y")
    check(failed, 1)
    assert "setup failed on" in failed.stderr
    assert {o["status"] for o in styx.outcomes().values()} == {"failed"}

    plan = check(styx("plan", "flaky.yaml", "--detailed-exitcode"), 2)
    assert "setup re-runs on head, worker1 (last attempt failed at version 1)" in plan
    assert "No changes" not in plan
    assert "setup runs on 2 nodes" in plan

    refused = styx("exec", "flaky.yaml")
    check(refused, 1)
    assert "is not set up on head (last attempt failed at version 1), worker1" in refused.stderr
    assert "SETUP NEVER SUCCEEDED" not in refused.stdout + refused.stderr

    applied = check(styx("apply", "flaky.yaml", "-y"))
    assert "setup ran on 2" in applied
    check(styx("plan", "flaky.yaml", "--detailed-exitcode"), 0)
    out = check(styx("exec", "flaky.yaml"))
    assert "(head) configured" in out and "(worker1) configured" in out

    check(styx("down", "flaky.yaml", "-y"))
    assert styx.leftovers() == []
    assert styx.outcomes() == {}
