"""Render a Plan as JSON (schemas/plan.schema.json) and read a saved one back, validated."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from styx._resources import data_path
from styx.errors import PlanError
from styx.plan._model import FORMAT_VERSION, Plan

__all__ = ["canonical_dict", "plan_from_dict", "plan_from_json", "plan_schema", "render_json"]


@cache
def plan_schema() -> Mapping[str, Any]:
    """The parsed schemas/plan.schema.json shipped with the package."""
    with data_path("schemas", "plan.schema.json").open(encoding="utf-8") as stream:
        schema: dict[str, Any] = json.load(stream)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(plan_schema())


def _sorted(value: Any) -> Any:
    """Property values with their keys sorted, so the same plan always prints the same bytes."""
    if isinstance(value, Mapping):
        return {str(k): _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_sorted(v) for v in value]
    return value


def canonical_dict(plan: Plan) -> dict[str, Any]:
    """The plan's dict in canonical order (steps and nodes sorted, property values' keys too)."""
    data = plan.sorted().to_dict()
    for step in (*data["steps"], *data["drift"]):
        for change in step["changes"]:
            change["old"] = _sorted(change["old"])
            change["new"] = _sorted(change["new"])
    return data


def render_json(plan: Plan) -> str:
    """The plan as JSON: the model's key order, property values' keys sorted, one trailing newline.

    Strict JSON (no NaN or Infinity), so any reader can load what `styx plan -o` saves.
    """
    return json.dumps(canonical_dict(plan), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _where(path: Any) -> str:
    parts = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    return parts.lstrip(".") or "the top level"


def plan_from_dict(data: Mapping[str, Any]) -> Plan:
    """A Plan from its `to_dict` form (a parsed plan file); raises PlanError if it is not one."""
    version = data.get("format_version") if isinstance(data, Mapping) else None
    if version != FORMAT_VERSION:
        raise PlanError(
            f"not a Styx plan of format version {FORMAT_VERSION} (found format_version "
            f"{version!r}); make the plan again with this version of Styx"
        )
    error = best_match(_validator().iter_errors(data))
    if error is not None:
        # The message names the place, never the value: a plan file is no place to echo data.
        raise PlanError(
            f"not a valid Styx plan: {_where(error.absolute_path)} fails the schema's "
            f"{error.validator!r} rule"
        )
    return Plan.from_dict(data)


def plan_from_json(text: str) -> Plan:
    """A Plan from the text `render_json` wrote; raises PlanError if it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanError(
            f"not a Styx plan: invalid JSON at line {error.lineno}, column {error.colno}"
        ) from None
    if not isinstance(data, dict):
        raise PlanError("not a Styx plan: the JSON is not an object")
    return plan_from_dict(data)
