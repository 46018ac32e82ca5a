"""The CI example's own steps, run as GitHub would run them, on the real engine and local cloud.

The `run:` scripts of examples/ci/github-actions.yml go to `bash -eo pipefail` (GitHub's
default shell) with the variables GitHub sets; the comment step runs plan-comment.js with
Node against a fake REST API (tests/unit/ci). Then the apply job's step runs in a fresh
clone of the repository, in another folder, with the saved plan downloaded there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"
SECRET = "hf-VALUE-91c2e0"

TASK = """\
name: ci
num_nodes: 1
resources:
  cpus: 0.5
secrets:
  HF_TOKEN: null
setup: |
  echo "token of length ${#HF_TOKEN}"
run: |
  echo "run on $SKYPILOT_NODE_RANK"
"""

STACK = """\
name: ciprod
task: ../tasks/ci.yaml
cloud: local
"""

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def workflow() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def step(job: str, name: str) -> dict[str, Any]:
    (found,) = [s for s in workflow()["jobs"][job]["steps"] if s.get("name") == name]
    return found


class Runner:
    """One repository, one runner machine's environment, and GitHub's files for a step."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.repo = base / "pr-checkout"
        (self.repo / "tasks").mkdir(parents=True)
        (self.repo / "stacks").mkdir()
        (self.repo / "tasks" / "ci.yaml").write_text(TASK)
        (self.repo / "stacks" / "prod.yaml").write_text(STACK)
        self.git("init", "-q", "-b", "main", cwd=self.repo)
        self.git("add", ".", cwd=self.repo)
        self.git("commit", "-q", "-m", "stack", cwd=self.repo)
        self.home = base / "styx-home"
        self.home.mkdir()
        # `styx` on PATH runs this checkout of Styx, as `pip install` would in CI.
        self.bin = base / "bin"
        self.bin.mkdir()
        shim = self.bin / "styx"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m styx "$@"\n')
        shim.chmod(0o755)

    def git(self, *args: str, cwd: Path) -> None:
        subprocess.run(["git", *args], cwd=cwd, check=True, env={**os.environ, **GIT_ENV},
                       capture_output=True, timeout=60)

    def env(self, job: str) -> dict[str, str]:
        top = workflow()["env"]
        env = {
            **os.environ,
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "STYX_HOME": str(self.home),
            "GITHUB_OUTPUT": str(self.base / f"{job}.output"),
            "GITHUB_STEP_SUMMARY": str(self.base / f"{job}.summary"),
        }
        env.pop("NO_COLOR", None)
        for key in ("STACK_FILE", "STYX_SECRETS", "STYX_CI_DIR"):
            env[key] = str(top[key])
        # The job's `env:` maps each task secret from the repository secret of its name.
        for key, value in workflow()["jobs"][job]["env"].items():
            assert value == f"${{{{ secrets.{key} }}}}"
            env[key] = SECRET
        return env

    def run_step(self, job: str, name: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        script = step(job, name)["run"]
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                              cwd=cwd, env=self.env(job), capture_output=True, text=True,
                              timeout=600)

    def comment(self, cwd: Path, outcome: str, fake_url: str) -> dict[str, list[str]]:
        """The comment step: plan-comment.js with the step's env, through the unit harness."""
        spec = step("plan", "Post or update the plan comment")
        env = {"PATH": os.environ["PATH"]}
        for key, value in spec["env"].items():
            value = value.replace("${{ env.STACK_FILE }}", workflow()["env"]["STACK_FILE"])
            env[key] = value.replace("${{ steps.plan.outcome }}", outcome)
        required = re.search(r"require\(`\./\$\{process\.env\.STYX_CI_DIR\}/([\w.-]+)`\)",
                             spec["with"]["script"])
        assert required is not None
        script = ROOT / workflow()["env"]["STYX_CI_DIR"] / required[1]
        context = {"repo": {"owner": "acme", "repo": "infra"}, "issue": {"number": 3},
                   "sha": "abcdef0123", "serverUrl": "https://github.example", "runId": 9,
                   "eventName": "pull_request"}
        proc = subprocess.run(
            ["node", str(ROOT / "tests" / "unit" / "ci" / "drive_comment.js"), str(script),
             fake_url, json.dumps(context)],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        told: dict[str, list[str]] = json.loads(proc.stdout)
        return told


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    made = Runner(tmp_path_factory.mktemp("ci"))
    yield made
    subprocess.run([str(made.bin / "styx"), "down", "-s", "ciprod", "-y", "-q"],
                   env=made.env("apply"), capture_output=True, timeout=300)


@pytest.fixture
def fake_github() -> Iterator[tuple[str, Any]]:
    """The unit harness's fake GitHub REST API, on 127.0.0.1."""
    import importlib.util
    import threading
    from http.server import ThreadingHTTPServer

    spec = importlib.util.spec_from_file_location(
        "ci_harness", ROOT / "tests" / "unit" / "ci" / "test_plan_comment.py"
    )
    assert spec is not None and spec.loader is not None
    harness = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = harness  # dataclasses look their module up there
    spec.loader.exec_module(harness)
    fake = harness.FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), harness.handler(fake))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", fake
    finally:
        server.shutdown()
        server.server_close()


def test_a_failing_plan_posts_its_error(runner: Runner, fake_github: tuple[str, Any]) -> None:
    url, fake = fake_github
    stack = runner.repo / "stacks" / "prod.yaml"
    stack.write_text(STACK.replace("cloud: local", "cloud: lokal"))
    try:
        proc = runner.run_step("plan", "styx plan", cwd=runner.repo)
    finally:
        stack.write_text(STACK)
    assert proc.returncode == 1
    assert "lokal" in (runner.repo / "plan.err").read_text()
    told = runner.comment(runner.repo, "failure", url)
    ((comment,),) = fake.comments.values()
    assert comment["body"].startswith("<!-- styx-ci: stacks/prod.yaml -->\n")
    assert "failed" in comment["body"] and "lokal" in comment["body"]
    assert told["failed"]


def test_the_pull_request_plan_is_commented_and_saved(
    runner: Runner, fake_github: tuple[str, Any]
) -> None:
    url, fake = fake_github
    proc = runner.run_step("plan", "styx plan", cwd=runner.repo)
    assert proc.returncode == 0, proc.stderr
    assert "changes=true" in (runner.base / "plan.output").read_text()
    plan_md = (runner.repo / "plan.md").read_text()
    assert plan_md.startswith("<!-- styx-plan: styx/ciprod -->")
    assert plan_md in (runner.base / "plan.summary").read_text()
    saved = json.loads((runner.repo / "plan.json").read_text())
    assert saved["target"]["secrets_from_environment"] == ["HF_TOKEN"]
    assert saved["target"]["stack_file"] == "stacks/prod.yaml"
    told = runner.comment(runner.repo, "success", url)
    ((comment,),) = fake.comments.values()
    assert comment["body"] == f"<!-- styx-ci: stacks/prod.yaml -->\n{plan_md}"
    assert told["failed"] == []


def test_the_merge_applies_the_saved_plan_from_a_fresh_clone(runner: Runner) -> None:
    clone = runner.base / "runner-2" / "work" / "infra"
    clone.parent.mkdir(parents=True)
    runner.git("clone", "-q", str(runner.repo), str(clone), cwd=runner.base)
    shutil.copy(runner.repo / "plan.json", clone / "plan.json")  # the downloaded artifact
    shutil.rmtree(runner.repo)  # the pull request's runner is long gone
    proc = runner.run_step("apply", "styx apply", cwd=clone)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Applied the saved plan to styx/ciprod" in proc.stdout
    summary = (runner.base / "apply.summary").read_text()
    assert summary.startswith("<!-- styx-plan: styx/ciprod -->")
    for path in (runner.base / "plan.summary", runner.base / "apply.summary"):
        assert SECRET not in path.read_text()
