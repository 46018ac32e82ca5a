"""A plan saved in one clone applies from another; show prints what plan printed; same bytes.

Real engine, real sshd, real ansible-runner, real git: the CI example's path from a pull
request's checkout to a fresh clone of the merge commit, on one machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from styx.workflow._saved import _validator

pytestmark = pytest.mark.integration

TASK = """\
name: clones
num_nodes: 1
resources:
  cpus: 0.5
workdir: app
file_mounts:
  ~/clones-config.txt: config.txt
setup: |
  echo "setup from $(pwd)"
run: |
  cat main.sh
"""

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


class Clones:
    def __init__(self, base: Path) -> None:
        self.home = base / "home"
        self.home.mkdir()
        self.first = base / "first"
        (self.first / "tasks").mkdir(parents=True)
        (self.first / "app").mkdir()
        (self.first / "app" / "main.sh").write_text("echo hello from the workdir\n")
        (self.first / "config.txt").write_text("config\n")
        (self.first / "tasks" / "clones.yaml").write_text(TASK)
        self.git("init", "-q", "-b", "main", cwd=self.first)
        self.git("add", ".", cwd=self.first)
        self.git("commit", "-q", "-m", "task", cwd=self.first)
        self.second = base / "elsewhere" / "second"
        self.second.parent.mkdir()
        self.git("clone", "-q", str(self.first), str(self.second), cwd=base)

    def git(self, *args: str, cwd: Path) -> None:
        subprocess.run(["git", *args], cwd=cwd, check=True, env={**os.environ, **GIT_ENV},
                       capture_output=True, timeout=60)

    def __call__(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "STYX_HOME": str(self.home)}
        env.pop("NO_COLOR", None)
        return subprocess.run([sys.executable, "-m", "styx", *args], capture_output=True,
                              text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def styx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clones]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    clones = Clones(tmp_path_factory.mktemp("clones"))
    yield clones
    clones("down", "-s", "clones", "-y", "-q", cwd=clones.second)


def ok(proc: subprocess.CompletedProcess[str], code: int = 0) -> str:
    assert proc.returncode == code, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


def test_show_prints_what_plan_printed(styx: Clones) -> None:
    printed = ok(styx("plan", "tasks/clones.yaml", "-q", "-o", "plan.json",
                      "--detailed-exitcode", cwd=styx.first), 2)
    assert "to create" in printed
    shown = ok(styx("show", "plan.json", cwd=styx.first))
    assert shown == printed
    for fmt in ("markdown", "json"):
        direct = ok(styx("plan", "tasks/clones.yaml", "-q", "--format", fmt, cwd=styx.first))
        assert ok(styx("show", "plan.json", "--format", fmt, cwd=styx.first)) == direct


def test_two_plans_of_the_same_change_are_the_same_bytes(styx: Clones) -> None:
    for fmt in ("text", "markdown", "json"):
        one = ok(styx("plan", "tasks/clones.yaml", "-q", "--format", fmt, cwd=styx.first))
        two = ok(styx("plan", "tasks/clones.yaml", "-q", "--format", fmt, cwd=styx.first))
        assert one == two, fmt


def test_a_plan_saved_in_one_clone_applies_from_another(styx: Clones) -> None:
    saved = (styx.first / "plan.json").read_text()
    _validator().validate(json.loads(saved))  # the file as written fits its schema
    assert str(styx.first) not in saved  # no absolute path of the first clone
    assert '"task": "tasks/clones.yaml"' in saved
    shutil.copy(styx.first / "plan.json", styx.second / "plan.json")
    # The first clone is gone, as a pull request's runner is by the time main applies.
    shutil.move(styx.first, styx.first.with_name("first-gone"))
    out = ok(styx("apply", "plan.json", "-y", "-q", cwd=styx.second))
    assert "Applied the saved plan to styx/clones" in out
    ok(styx("plan", "tasks/clones.yaml", "--detailed-exitcode", "-q", "-o", "again.json",
            cwd=styx.second), 0)
    # From a subfolder of the clone too: paths are found under the repository's root.
    ok(styx("apply", "../again.json", "-y", "-q", cwd=styx.second / "app"))
    out = ok(styx("exec", "tasks/clones.yaml", "-q", cwd=styx.second))
    assert "echo hello from the workdir" in out


def test_a_saved_plan_outside_its_repository_says_where_to_apply_it(
    styx: Clones, tmp_path: Path
) -> None:
    shutil.copy(styx.second / "plan.json", tmp_path / "plan.json")
    refused = styx("apply", "plan.json", "-y", cwd=tmp_path)
    ok(refused, 1)
    assert "task file" in refused.stderr and "is not there" in refused.stderr
    assert "checkout of the repository it was planned in at commit" in refused.stderr
