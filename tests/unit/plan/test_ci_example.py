"""examples/ci/github-actions.yml stays in step with the CLI words and the comment marker."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from styx.plan import comment_marker

WORKFLOW = Path(__file__).resolve().parents[3] / "examples" / "ci" / "github-actions.yml"


def load() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def steps(job: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = load()["jobs"][job]["steps"]
    return found


def runs(job: str) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


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
    plan = runs("plan").replace("\\\n", " ")
    for word in ("styx plan", "--format markdown", "--detailed-exitcode", "-o plan.json"):
        assert word in plan
    assert "styx apply plan.json -y" in runs("apply")


def test_the_comment_is_found_by_the_renderers_marker() -> None:
    prefix = comment_marker("project", "stack").split("project")[0]
    assert prefix == "<!-- styx-plan: "
    post, stale, _ = scripts()
    assert f"startsWith('{prefix}')" in post and f"startsWith('{prefix}')" in stale


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
