"""Saved plan files: recognised by kind, damaged ones refused with a one-line PlanError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from styx.errors import PlanError
from styx.workflow import is_saved_plan, read_saved_plan


def test_only_styx_saved_plans_are_recognised(tmp_path: Path) -> None:
    task = tmp_path / "task.json"
    task.write_text('{"name": "hello"}')
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps({"kind": "styx-saved-plan", "format_version": 1}))
    assert not is_saved_plan(task)
    assert is_saved_plan(saved)
    assert not is_saved_plan(tmp_path / "missing.json")


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"kind": "styx-saved-plan", "format_version": 99}),
        json.dumps({"kind": "styx-saved-plan", "format_version": 1}),
        json.dumps({"kind": "styx-saved-plan", "format_version": 1, "target": {}, "plan": {}}),
    ],
)
def test_damaged_plans_are_refused_clearly(tmp_path: Path, content: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(PlanError) as caught:
        read_saved_plan(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_secrets_named_by_the_plan_must_be_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STYX_TEST_TOKEN", raising=False)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({
        "kind": "styx-saved-plan", "format_version": 1, "plan": {},
        "target": {"task": "t.yaml", "secrets_from_environment": ["STYX_TEST_TOKEN"]},
    }))
    with pytest.raises(PlanError, match="needs the secret"):
        read_saved_plan(path)
