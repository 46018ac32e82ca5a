"""What the nodes would see plans a setup re-run; what they would not see does not.

Real engine, sshd and ansible on a one-node local cluster: `chmod +x` of a workdir file and
a new empty folder each plan setup again (and setup then sees them); touching a file does
not. The task's ports show in `styx status`, at the node's own address.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from styx.workflow import (
    PROJECT,
    Target,
    apply_target,
    cluster_status,
    down_stack,
    plan_target,
    resolve_target,
)

pytestmark = pytest.mark.integration

TASK = """\
name: wd
workdir: wd
resources:
  cpus: 0.5
  ports: 8888
setup: |
  # Setup runs in ~/sky_workdir.
  ls -l run.sh | cut -c1-10 > ~/mode.txt
  if test -d empty; then echo yes; else echo no; fi > ~/empty.txt
"""


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    base = tmp_path_factory.mktemp("workdir")
    os.environ["STYX_HOME"] = str(base / "home")
    (base / "wd").mkdir()
    (base / "wd" / "run.sh").write_text("echo hi\n")
    (base / "wd" / "run.sh").chmod(0o644)
    # Relative local paths resolve against the directory Styx runs in: name the folder whole.
    (base / "task.yaml").write_text(TASK.replace("workdir: wd", f"workdir: {base / 'wd'}"))
    found = resolve_target(base / "task.yaml")
    apply_target(found)
    yield found
    down_stack(found.ref)
    os.environ.pop("STYX_HOME", None)


def _replan(target: Target) -> tuple[str, ...]:
    """The nodes the next plan re-runs setup on, from a freshly loaded task."""
    return plan_target(resolve_target(target.spec.source)).plan.setup_nodes


def _home(target: Target) -> Path:
    return Path(os.environ["STYX_HOME"]) / "local" / target.cluster / "head" / "home"


def test_touching_a_file_plans_no_setup(target: Target) -> None:
    os.utime(target.spec.source.parent / "wd" / "run.sh", (1, 1))
    assert _replan(target) == ()


def test_chmod_plus_x_plans_setup_and_reaches_the_node(target: Target) -> None:
    (target.spec.source.parent / "wd" / "run.sh").chmod(0o755)
    assert _replan(target) == ("head",)
    result = apply_target(resolve_target(target.spec.source))
    assert result.setup_ran == ("head",)
    assert (_home(target) / "mode.txt").read_text().strip() == "-rwxr-xr-x"
    assert _replan(target) == ()


def test_a_new_empty_folder_plans_setup_and_reaches_the_node(target: Target) -> None:
    (target.spec.source.parent / "wd" / "empty").mkdir()
    assert _replan(target) == ("head",)
    apply_target(resolve_target(target.spec.source))
    assert (_home(target) / "empty.txt").read_text().strip() == "yes"
    assert _replan(target) == ()


def test_status_shows_the_tasks_ports_at_the_nodes_address(target: Target) -> None:
    [cluster] = [c for c in cluster_status(PROJECT) if c.cluster == target.cluster]
    [node] = cluster.nodes
    assert node.ports == ("8888",) and node.address.startswith("127.")
    shown = subprocess.run([sys.executable, "-m", "styx", "status"], capture_output=True,
                           text=True, env=os.environ, timeout=120, check=True).stdout
    assert f"ports 8888 at {node.address}" in shown
