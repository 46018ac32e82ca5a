"""examples/ci/github-actions.yml stays in step with the CLI, the distribution and the marker."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from styx.plan import comment_marker

ROOT = Path(__file__).resolve().parents[3]
CI = ROOT / "examples" / "ci"
WORKFLOW = CI / "github-actions.yml"


def load() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def steps(job: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = load()["jobs"][job]["steps"]
    return found


def runs(job: str) -> str:
    return "\n".join(step.get("run", "") for step in steps(job)).replace("\\\n", " ")


def scripts() -> list[str]:
    return [
        step["with"]["script"]
        for job in ("plan", "apply")
        for step in steps(job)
        if "github-script" in step.get("uses", "")
    ]


def test_plans_on_pull_requests_and_applies_the_saved_plan_on_main() -> None:
    workflow = load()
    assert set(workflow["on"]) == {"pull_request", "push", "workflow_dispatch"}
    plan = runs("plan")
    for word in ("styx plan", "--format markdown", "--detailed-exitcode", "-o plan.json"):
        assert word in plan
    assert "styx apply plan.json -y" in runs("apply")


def test_styx_is_installed_by_its_own_distribution_name_pinned() -> None:
    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    assert name == "styx-clusters"
    version = load()["env"]["STYX_VERSION"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    for job in ("plan", "apply"):
        installs = [line for line in runs(job).splitlines() if "pip install" in line]
        assert installs == ['python -m pip install "styx-clusters==${STYX_VERSION}"'], job
    text = WORKFLOW.read_text()
    assert not re.search(r"pip install\s+styx(\s|$)", text)


def test_task_secrets_come_from_repository_secrets_by_name() -> None:
    names = load()["env"]["STYX_SECRETS"].split()
    assert names
    for job in ("plan", "apply"):
        env = load()["jobs"][job]["env"]
        for name in names:
            assert env[name] == f"${{{{ secrets.{name} }}}}", (job, name)
    for job in ("plan", "apply"):
        assert 'for name in $STYX_SECRETS; do secret_args+=(--secret "$name"); done' in runs(job)
        for line in runs(job).splitlines():
            if line.strip().startswith("styx plan"):
                assert '"${secret_args[@]}"' in line


def test_forks_are_skipped_with_a_note_never_failed() -> None:
    jobs = load()["jobs"]
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert same_repo in jobs["plan"]["if"]
    assert same_repo.replace("==", "!=") in jobs["fork"]["if"]
    fork = runs("fork")
    assert "GITHUB_STEP_SUMMARY" in fork and "exit 1" not in fork
    assert jobs["fork"]["permissions"] == {}


def test_the_comment_step_runs_on_failure_with_the_error() -> None:
    (comment,) = [s for s in steps("plan") if "github-script" in s.get("uses", "")]
    assert comment["if"].startswith("always()")
    assert "steps.plan.outcome == 'failure'" in comment["if"]
    assert comment["env"]["STYX_PLAN_OUTCOME"] == "${{ steps.plan.outcome }}"
    assert "2> plan.err" in runs("plan")
    required = re.search(r"require\(`\./\$\{process\.env\.STYX_CI_DIR\}/([\w.-]+)`\)",
                         comment["with"]["script"])
    assert required is not None
    assert (ROOT / load()["env"]["STYX_CI_DIR"] / required[1]) == CI / "plan-comment.js"


def test_the_plan_is_written_to_the_step_summary() -> None:
    assert 'cat plan.md >> "$GITHUB_STEP_SUMMARY"' in runs("plan")
    assert 'styx show plan.json --format markdown >> "$GITHUB_STEP_SUMMARY"' in runs("apply")


def test_the_script_checks_the_renderers_marker() -> None:
    prefix = comment_marker("project", "stack").split("project")[0]
    assert prefix == "<!-- styx-plan: "
    assert f"startsWith('{prefix}')" in (CI / "plan-comment.js").read_text()


def test_the_artifact_uploaded_is_the_one_downloaded() -> None:
    (upload,) = [s for s in steps("plan") if "upload-artifact" in s.get("uses", "")]
    (download,) = [s for s in steps("apply") if "download-artifact" in s.get("uses", "")]
    assert upload["with"]["name"] == download["with"]["name"]
    assert "plan.json" in upload["with"]["path"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_scripts_are_valid_javascript(tmp_path: Path) -> None:
    for index, script in enumerate(scripts()):
        path = tmp_path / f"script{index}.js"
        path.write_text(f"(async function () {{\n{script}\n}})();\n", encoding="utf-8")
        subprocess.run(["node", "--check", str(path)], check=True, timeout=30)
    subprocess.run(["node", "--check", str(CI / "plan-comment.js")], check=True, timeout=30)
