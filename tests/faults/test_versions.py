"""Versions come from the engine's whole history, not its first page of ten."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest
from faultkit import Styx, check

from styx.engine import StackOps, StackRef, open_stack

pytestmark = pytest.mark.integration


def test_twelve_updates_number_one_to_twelve(styx_home: Path) -> None:
    seen = []
    for count in range(1, 13):

        def program(count: int = count) -> None:
            pulumi.export("count", count)

        ops = StackOps(open_stack(StackRef("styx", "versions"), program))
        ops.up(message=f"update {count}")
        seen.append(ops.version())
    assert seen == list(range(1, 13))


TASK = """\
name: saved
num_nodes: 1
envs:
  V: "1"
run: echo "$V"
"""


def test_a_saved_plan_made_before_another_apply_is_refused_for_its_version(
    make_styx: Callable[[str, str], Styx], tmp_path: Path
) -> None:
    styx = make_styx("saved", TASK)
    task = str(styx.task)
    check(styx("apply", task, "-y"))
    saved = tmp_path / "plan.json"
    check(styx("plan", task, "-o", str(saved)))
    check(styx("apply", task, "-y", "--env", "V=2"))
    refused = styx("apply", str(saved), "-y")
    check(refused, 1)
    assert "version 1" in refused.stderr and "now at version 2" in refused.stderr
