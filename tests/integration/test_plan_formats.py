"""A real plan (the engine's preview of a local task, nothing applied) in every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from styx.plan import comment_marker, plan_from_json, plan_schema, render_json, render_markdown
from styx.workflow import plan_target, resolve_target

pytestmark = pytest.mark.integration

TASK = """\
name: formats
num_nodes: 3
resources:
  cpus: 0.5
envs:
  MODE: demo
secrets:
  HF_TOKEN: {secret}
setup: echo setup
run: echo run
"""
SECRET_VALUE = "hunter2-formats-Xq7"


def test_a_real_plan_validates_renders_and_reads_back(styx_home: Path, tmp_path: Path) -> None:
    task = tmp_path / "formats.yaml"
    task.write_text(TASK.format(secret=SECRET_VALUE))
    plan = plan_target(resolve_target(task)).plan
    assert plan.has_changes and len(plan.changes) >= 3

    text = render_json(plan)
    Draft202012Validator(plan_schema()).validate(json.loads(text))
    assert plan_from_json(text) == plan

    markdown = render_markdown(plan)
    assert markdown.startswith(comment_marker(plan.project, plan.stack))
    assert plan.summary() in markdown and len(markdown) <= 65_536
    for output in (text, markdown, repr(plan)):
        assert SECRET_VALUE not in output


def test_a_real_300_node_plan_fits_a_pull_request_comment(
    styx_home: Path, tmp_path: Path
) -> None:
    # 300 nodes do not fit a /24: the network grows to a /23, and the plan says so.
    task = tmp_path / "big.yaml"
    task.write_text(TASK.format(secret=SECRET_VALUE).replace("num_nodes: 3", "num_nodes: 300")
                    .replace("cpus: 0.5", "cpus: 0.1"))
    plan = plan_target(resolve_target(task)).plan
    assert len(plan.changes) == 302  # network, key pair, 300 nodes
    markdown = render_markdown(plan)
    assert len(markdown) < 65_536
    assert plan.summary() in markdown
    assert "setup runs on 300 nodes" in plan.summary()
