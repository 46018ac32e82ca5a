"""The JSON renderer: golden output, schema agreement at every level, and exact round trips."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from styx.errors import PlanError
from styx.plan import (
    FORMAT_VERSION,
    Action,
    DiffKind,
    Plan,
    PropertyChange,
    Step,
    plan_from_dict,
    plan_from_json,
    plan_schema,
    render_json,
)

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).resolve().parents[3]


def resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    node: Any = plan_schema()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return resolve(node)


def same_keys(data: Any, schema: Mapping[str, Any], where: str = "plan") -> int:
    """Assert every object's keys are the schema's properties, recursively; count objects."""
    schema = resolve(schema)
    if isinstance(data, dict) and "properties" in schema:
        assert list(data) == list(schema["properties"]), where
        assert set(schema["required"]) == set(data), where
        assert schema["additionalProperties"] is False, where
        return 1 + sum(
            same_keys(value, schema["properties"][key], f"{where}.{key}")
            for key, value in data.items()
        )
    if isinstance(data, list) and "items" in schema:
        return sum(same_keys(v, schema["items"], f"{where}[{i}]") for i, v in enumerate(data))
    return 0


def test_json_golden(golden: Callable[[Path, str], None], review: Plan) -> None:
    golden(GOLDEN / "plan.json", render_json(review))


def test_schema_is_valid_and_shipped_with_the_package() -> None:
    Draft202012Validator.check_schema(plan_schema())
    on_disk = json.loads((ROOT / "schemas" / "plan.schema.json").read_text())
    assert plan_schema() == on_disk


def test_output_validates_against_the_schema(review: Plan) -> None:
    Draft202012Validator(plan_schema()).validate(json.loads(render_json(review)))


def test_model_and_schema_agree_at_every_level(review: Plan) -> None:
    # The review plan has a step with changes, a drift step, a node change: every object kind.
    objects = same_keys(review.to_dict(), plan_schema())
    assert objects > 10
    defs = plan_schema()["$defs"]
    assert defs["action"]["enum"] == [a.value for a in Action]
    assert defs["property_change"]["properties"]["kind"]["enum"] == [k.value for k in DiffKind]
    assert plan_schema()["properties"]["format_version"]["const"] == FORMAT_VERSION


def test_round_trips_exactly(review: Plan) -> None:
    # A plan reads back in its canonical order (the order every renderer uses).
    assert plan_from_json(render_json(review)) == review.sorted()
    assert plan_from_dict(review.to_dict()) == review
    assert render_json(plan_from_json(render_json(review))) == render_json(review)


def test_value_keys_are_sorted_so_output_is_stable(review: Plan) -> None:
    one = Step(Action.UPDATE, "t", "n", "u",
               (PropertyChange("tags", DiffKind.UPDATE, {"b": 1, "a": {"d": 1, "c": 2}}, None),))
    other = replace(one, changes=(
        PropertyChange("tags", DiffKind.UPDATE, {"a": {"c": 2, "d": 1}, "b": 1}, None),))
    first = render_json(replace(review, steps=(one,)))
    assert first == render_json(replace(review, steps=(other,)))
    assert '"a": {\n' in first and first.index('"a"') < first.index('"b"')
    assert first.endswith("}\n") and not first.endswith("\n\n")


def test_unicode_is_kept_readable(review: Plan) -> None:
    assert "2 nodes × 4 CPUs" in render_json(review)


def test_other_format_versions_are_refused(review: Plan) -> None:
    data = review.to_dict()
    data["format_version"] = 2
    with pytest.raises(PlanError, match=r"format version 1 .*found format_version 2"):
        plan_from_dict(data)


def test_invalid_json_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="invalid JSON at line 1"):
        plan_from_json("{nope")
    with pytest.raises(PlanError, match="not an object"):
        plan_from_json("[1]")


def test_schema_violations_name_the_place_not_the_value(review: Plan) -> None:
    data = json.loads(render_json(review))
    data["steps"][2]["action"] = "obliterate-hunter2"
    where = r"steps\[2\]\.action fails the schema's 'enum' rule"
    with pytest.raises(PlanError, match=where) as err:
        plan_from_dict(data)
    assert "hunter2" not in str(err.value)
    data = json.loads(render_json(review))
    del data["cost"]["after"]
    with pytest.raises(PlanError, match="cost fails the schema's 'required' rule"):
        plan_from_dict(data)
