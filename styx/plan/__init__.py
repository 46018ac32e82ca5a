"""Plans: engine events and node-level diffs collected into a Plan, then rendered."""

from __future__ import annotations

from styx.plan._collect import steps_from_events
from styx.plan._json import plan_from_dict, plan_from_json, plan_schema, render_json
from styx.plan._model import (
    FORMAT_VERSION,
    SECRET,
    Action,
    DiffKind,
    NodeChange,
    Plan,
    PropertyChange,
    Step,
)
from styx.plan._nodes import node_changes
from styx.plan._text import display_type, render_text

__all__ = [
    "FORMAT_VERSION",
    "SECRET",
    "Action",
    "DiffKind",
    "NodeChange",
    "Plan",
    "PropertyChange",
    "Step",
    "display_type",
    "node_changes",
    "plan_from_dict",
    "plan_from_json",
    "plan_schema",
    "render_json",
    "render_text",
    "steps_from_events",
]
