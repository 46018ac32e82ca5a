"""Plans leave STYX_HOME as they found it: the engine writes no log, nothing else piles up.

The full measure (100 plans, and the engine CPU with and without its log) is
bench/home_growth.py; here a few plans, with a bound the engine's log alone would break.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from styx.workflow import plan_target, resolve_target

pytestmark = pytest.mark.integration

TASK = """\
name: grow
num_nodes: 2
resources:
  cpus: 0.5
setup: |
  echo setup
run: |
  echo rank $SKYPILOT_NODE_RANK
"""
PLANS = 6
# What the plans after the first may add together. With the engine's log on each plan adds
# about 15 KB in 5 files (one per engine command; measured with bench/home_growth.py), so
# 5 plans break this bound, and the file list, unless the log is off.
BOUND = 16 * 1024


def footprint(home: Path) -> tuple[int, list[str]]:
    size, files = 0, []
    for root, _dirs, names in os.walk(home):
        for name in names:
            path = Path(root) / name
            size += path.lstat().st_size
            files.append(str(path.relative_to(home)))
    return size, sorted(files)


def test_plans_leave_no_engine_logs_and_no_growth(
    styx_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STYX_DEBUG", raising=False)
    task = tmp_path / "grow.yaml"
    task.write_text(TASK)
    target = resolve_target(task)
    plan_target(target)
    size, files = footprint(styx_home)
    for _ in range(PLANS - 1):
        plan_target(target)
    after, files_after = footprint(styx_home)
    assert files_after == files, "plans add no file"
    assert after - size < BOUND
    logs = styx_home / "pulumi" / "logs"
    assert logs.is_file(), "the engine's log folder is kept from being made"


def test_with_styx_debug_the_engine_keeps_its_logs(
    styx_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STYX_DEBUG", "1")
    task = tmp_path / "grow.yaml"
    task.write_text(TASK)
    plan_target(resolve_target(task))
    logs = styx_home / "pulumi" / "logs"
    assert logs.is_dir() and list(logs.glob("pulumi-*.log"))
    monkeypatch.delenv("STYX_DEBUG")
    plan_target(resolve_target(task))
    assert logs.is_file(), "without STYX_DEBUG the next command removes them"
