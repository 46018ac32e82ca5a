"""Portable stacks: a stack recorded before the local cloud's inputs were relative to STYX_HOME
(absolute paths in its inputs) plans as "No changes" with this Styx, from its own home and
from another one, and keeps its nodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from styx.clouds.local import _program
from styx.clouds.local._paths import LocalClusterPaths
from styx.clouds.local._sshd import NodeLayout
from styx.workflow import apply_target, down_stack, plan_target, resolve_target

pytestmark = pytest.mark.integration


def test_absolute_inputs_recorded_before_are_no_change(
    styx_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = tmp_path / "oldpaths.yaml"
    task.write_text("name: oldpaths\nsetup: echo configured > ~/marker\nrun: cat ~/marker\n")
    target = resolve_target(task)
    home = styx_home.resolve()
    with monkeypatch.context() as old_style:
        # The program as it was: every path absolute under this STYX_HOME.
        old_style.setattr(_program, "LocalClusterPaths",
                          lambda _home, cluster: LocalClusterPaths(home, cluster))  # fmt: skip
        first = apply_target(target)
    assert first.applied
    try:
        host_key = NodeLayout(home / "local" / "oldpaths" / "head").host_public_key
        before = host_key.read_text()

        plan = plan_target(target).plan
        assert not plan.has_changes, plan.steps
        assert not apply_target(target).applied  # nothing to do
        # Another home (a colleague's machine) plans the same: nothing to do.
        # (its own STYX_HOME; the same backend, named by URL, and passphrase.)
        with monkeypatch.context() as elsewhere:
            elsewhere.setenv("STYX_PASSPHRASE", (home / "passphrase").read_text().strip())
            elsewhere.setenv("STYX_HOME", str(tmp_path / "other-home"))
            assert not plan_target(target).plan.has_changes
        # The same node all along: its host key was kept, its folder never made anew.
        assert host_key.read_text() == before
    finally:
        down_stack(target.ref)
