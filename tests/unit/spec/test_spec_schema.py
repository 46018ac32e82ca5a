"""The schema and the model agree: every schema field is parsed, every parsed field is in it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from styx._resources import data_path
from styx.spec import Resources, Spec, load_schema, load_task
from styx.spec._build import (
    HANDLED_AUTOSTOP_FIELDS,
    HANDLED_RESOURCE_FIELDS,
    HANDLED_TASK_FIELDS,
)


def _split(properties: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    supported = {k for k, v in properties.items() if "x-styx-unsupported" not in v}
    return supported, set(properties) - supported


def _task() -> Mapping[str, Any]:
    return load_schema("task")


def _autostop_object() -> Mapping[str, Any]:
    branches = _task()["$defs"]["autostop"]["anyOf"]
    (obj,) = [b for b in branches if b.get("type") == "object"]
    result: Mapping[str, Any] = obj["properties"]
    return result


@pytest.mark.parametrize("name", ["task", "stack"])
def test_schemas_are_valid_2020_12(name: str) -> None:
    path = data_path("schemas", f"{name}.schema.json")
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_task_fields_match_the_model() -> None:
    supported, unsupported = _split(_task()["properties"])
    assert supported == HANDLED_TASK_FIELDS
    assert {"volumes", "volume_mounts"} <= unsupported


def test_resource_fields_match_the_model() -> None:
    supported, unsupported = _split(_task()["$defs"]["resources"]["properties"])
    assert supported == HANDLED_RESOURCE_FIELDS
    assert {"accelerator_args", "max_hourly_cost"} <= unsupported


def test_autostop_fields_match_the_model() -> None:
    supported, _ = _split(_autostop_object())
    assert supported == HANDLED_AUTOSTOP_FIELDS


# Where each model field comes from. Adding a schema field or a model field without
# saying how they meet fails one of the two tests below.
RESOURCE_SOURCES: dict[str, set[str]] = {
    "cloud": {"cloud", "infra"},
    "region": {"region", "infra"},
    "zone": {"zone", "infra"},
    "instance_type": {"instance_type"},
    "cpus": {"cpus"},
    "memory": {"memory"},
    "accelerator": {"accelerators", "gpus"},
    "use_spot": {"use_spot"},
    "disk_size_gb": {"disk_size"},
    "disk_tier": {"disk_tier"},
    "ports": {"ports"},
    "image_id": {"image_id"},
    "labels": {"labels"},
    "autostop": {"autostop"},
    "network_tier": {"network_tier"},
}
# Resource fields that are read and only reported (a plan warning), never modelled.
WARNED_RESOURCE_FIELDS = {"job_recovery", "spot_recovery"}
SPEC_SOURCES: dict[str, set[str]] = {
    "name": {"name"},
    "source": set(),
    "num_nodes": {"num_nodes"},
    "resources": {"resources"},
    "candidates": {"resources"},
    "candidates_ordered": {"resources"},
    "envs": {"envs"},
    "secrets": {"secrets"},
    "file_mounts": {"file_mounts"},
    "storage": {"file_mounts"},
    "workdir": {"workdir"},
    "setup": {"setup"},
    "run": {"run"},
    "warnings": {"config", "resources", "service", "pool"},
}


def test_every_resources_field_has_a_schema_source() -> None:
    assert {f.name for f in dataclasses.fields(Resources)} == set(RESOURCE_SOURCES)
    used = set().union(*RESOURCE_SOURCES.values()) | {"any_of", "ordered"} | \
        WARNED_RESOURCE_FIELDS
    supported, _ = _split(_task()["$defs"]["resources"]["properties"])
    assert used == supported


def test_every_spec_field_has_a_schema_source() -> None:
    # `places` records where fields were written; it is not a field of the task.
    assert {f.name for f in dataclasses.fields(Spec) if f.compare} == set(SPEC_SOURCES)
    supported, _ = _split(_task()["properties"])
    assert set().union(*SPEC_SOURCES.values()) == supported


# One value per supported resource field, and what the model must make of it.
SAMPLES: dict[str, tuple[Any, str, str]] = {
    "infra": ("aws/us-west-2/us-west-2b", "zone", "us-west-2b"),
    "cloud": ("AWS", "cloud", "aws"),
    "region": ("eu-west-1", "region", "eu-west-1"),
    "zone": ("eu-west-1a", "zone", "eu-west-1a"),
    "instance_type": ("m6i.large", "instance_type", "m6i.large"),
    "cpus": ("4+", "cpus", "4+"),
    "memory": ("32GB", "memory", "32"),
    "accelerators": ("V100:2", "accelerator", "V100:2"),
    "gpus": ({"H100": 8}, "accelerator", "H100:8"),
    "use_spot": (True, "use_spot", "True"),
    "disk_size": ("1Ti", "disk_size_gb", "1024"),
    "disk_tier": ("High", "disk_tier", "high"),
    "ports": ([8080, "8000-8010"], "ports", "(8000-8010, 8080)"),
    "image_id": ({"us-east-1": "ami-1"}, "image_id", "{'us-east-1': 'ami-1'}"),
    "labels": ({"team": "ml"}, "labels", "{'team': 'ml'}"),
    "autostop": ("2h", "autostop", "120"),
    "network_tier": ("Best", "network_tier", "best"),
    "any_of": ([{"cpus": 2}, {"cpus": 4}], "cpus", "2"),
    "ordered": ([{"cpus": 8}], "cpus", "8"),
}


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    if isinstance(value, Mapping):
        return str(dict(value))
    if dataclasses.is_dataclass(value) and hasattr(value, "idle_minutes"):
        return str(value.idle_minutes)
    return str(value)


def test_samples_cover_every_resource_field() -> None:
    supported, _ = _split(_task()["$defs"]["resources"]["properties"])
    assert set(SAMPLES) == supported - WARNED_RESOURCE_FIELDS


@pytest.mark.parametrize("field", sorted(WARNED_RESOURCE_FIELDS))
def test_warned_resource_fields_become_warnings(field: str, tmp_path: Path) -> None:
    task = tmp_path / "task.yaml"
    entry = {"cpus": 2, field: "EAGER_NEXT_REGION"}
    task.write_text(json.dumps({"resources": {field: "FAILOVER", "any_of": [entry]}}))
    spec = load_task(task)
    assert [w.split(" is ignored")[0] for w in spec.warnings] == [
        f"resources.{field}", f"resources.any_of[0].{field}"]
    assert "managed jobs" in spec.warnings[0]


@pytest.mark.parametrize("field", sorted(SAMPLES))
def test_each_resource_field_reaches_the_model(field: str, tmp_path: Path) -> None:
    value, attribute, expected = SAMPLES[field]
    task = tmp_path / "task.yaml"
    task.write_text(json.dumps({"resources": {field: value}}))
    spec = load_task(task)
    target = spec.candidates[0] if field in ("any_of", "ordered") else spec.resources
    assert _shown(getattr(target, attribute)) == expected
