"""Saved plan files: a schema of their own, portable paths, damaged ones refused in one line."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from styx.clouds.overrides import ResourceOverrides
from styx.errors import PlanError
from styx.plan import Action, Plan, Step
from styx.workflow import TargetOptions, is_saved_plan, read_saved_plan
from styx.workflow._saved import (
    SavedPlan,
    _portable,
    _validator,
    repository_root,
    saved_plan_schema,
)

ROOT = Path(__file__).resolve().parents[3]
NODE = "pulumi-python:dynamic/styx-local:Node"


def saved(**target: Any) -> dict[str, Any]:
    steps = (
        Step(Action.CREATE, NODE, "hello-worker10", "urn:b"),
        Step(Action.CREATE, NODE, "hello-worker2", "urn:a"),
    )
    plan = SavedPlan(
        plan=Plan("styx", "hello", "local", steps, stack_version=2, spec_hash="ab" * 32),
        task="examples/hello.yaml",
        options=TargetOptions(
            stack_file=Path("stacks/dev.yaml"), stack_name="hello",
            env_overrides={"MODE": "x"}, variables={"size": "2"},
            overrides=ResourceOverrides(num_nodes=3),
        ),
        secrets=("TOKEN",),
        refreshed=True,
    )
    data = plan.to_dict()
    data["target"].update(target)
    return data


def write(tmp_path: Path, data: Mapping[str, Any] | str) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_the_schema_is_valid_shipped_and_covers_the_written_file(tmp_path: Path) -> None:
    Draft202012Validator.check_schema(saved_plan_schema())
    on_disk = json.loads((ROOT / "schemas" / "saved-plan.schema.json").read_text())
    assert saved_plan_schema() == on_disk
    data = saved()
    _validator().validate(data)  # the plan inside is checked against plan.schema.json too
    broken = saved()
    broken["plan"]["steps"][0]["action"] = "explode"
    assert not _validator().is_valid(broken)


def test_the_schema_names_every_target_field_and_override() -> None:
    target = saved_plan_schema()["properties"]["target"]
    assert set(target["required"]) == set(saved()["target"]) == set(target["properties"])
    flags = target["properties"]["overrides"]["properties"]
    assert list(flags) == [f.name for f in fields(ResourceOverrides)]
    assert list(flags) == list(asdict(ResourceOverrides()))


def test_a_saved_plan_reads_back_in_canonical_order(tmp_path: Path) -> None:
    data = saved()
    assert [s["name"] for s in data["plan"]["steps"]] == ["hello-worker2", "hello-worker10"]
    back = read_saved_plan(write(tmp_path, data))
    assert back.task == "examples/hello.yaml" and back.secrets == ("TOKEN",)
    assert back.options.overrides == ResourceOverrides(num_nodes=3)
    assert back.plan == back.plan.sorted()


def test_only_styx_saved_plans_are_recognised(tmp_path: Path) -> None:
    task = tmp_path / "task.json"
    task.write_text('{"name": "hello"}')
    assert not is_saved_plan(task)
    assert is_saved_plan(write(tmp_path, saved()))
    assert not is_saved_plan(tmp_path / "missing.json")


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"kind": "styx-saved-plan", "format_version": 99}),
        json.dumps({"kind": "styx-saved-plan", "format_version": 1}),
        json.dumps({"kind": "styx-saved-plan", "format_version": 2}),
        json.dumps({"kind": "styx-saved-plan", "format_version": 2, "target": {}, "plan": {}}),
        json.dumps({**saved(), "extra": 1}),
        json.dumps(saved(task=7)),
        json.dumps({"format_version": 1, "project": "styx"}),
    ],
)
def test_damaged_plans_are_refused_clearly(tmp_path: Path, content: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(PlanError) as caught:
        read_saved_plan(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_old_format_says_to_plan_again(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"format 1; this Styx reads format 2: make it again"):
        read_saved_plan(write(tmp_path, {**saved(), "format_version": 1}))


def test_secrets_named_by_the_plan_must_be_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOKEN", raising=False)
    plan = read_saved_plan(write(tmp_path, saved()))
    with pytest.raises(PlanError, match="needs the secret"):
        plan.located(tmp_path)
    monkeypatch.setenv("TOKEN", "v")
    task, options = plan.located(tmp_path)
    assert options.secret_overrides == {"TOKEN": "v"}
    assert task == tmp_path / "examples" / "hello.yaml"
    assert options.stack_file == tmp_path / "stacks" / "dev.yaml"


def test_paths_are_relative_to_the_repository_root(tmp_path: Path) -> None:
    repo = tmp_path / "clone"
    (repo / ".git").mkdir(parents=True)
    (repo / "tasks" / "deep").mkdir(parents=True)
    assert repository_root(repo / "tasks" / "deep") == repo
    assert repository_root(tmp_path) is None
    assert _portable(repo / "tasks" / "t.yaml", repo) == "tasks/t.yaml"
    assert _portable(tmp_path / "elsewhere.yaml", repo) == str(tmp_path / "elsewhere.yaml")
    assert _portable(None, repo) is None
