"""Plans: engine events and node-level diffs collected into a Plan, then rendered."""

from __future__ import annotations

from typing import Literal

from styx.plan._collect import steps_from_events
from styx.plan._json import plan_from_dict, plan_from_json, plan_schema, render_json
from styx.plan._markdown import (
    CI_HEADROOM,
    GITHUB_COMMENT_LIMIT,
    comment_marker,
    render_markdown,
)
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
    "CI_HEADROOM",
    "FORMATS",
    "FORMAT_VERSION",
    "GITHUB_COMMENT_LIMIT",
    "SECRET",
    "Action",
    "DiffKind",
    "Format",
    "NodeChange",
    "Plan",
    "PropertyChange",
    "Step",
    "comment_marker",
    "display_type",
    "node_changes",
    "plan_from_dict",
    "plan_from_json",
    "plan_schema",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
    "steps_from_events",
]

Format = Literal["text", "markdown", "json"]
# The formats `render` takes, in the order a --format option lists them.
FORMATS: tuple[Format, ...] = ("text", "markdown", "json")


def render(plan: Plan, fmt: Format, color: bool = False) -> str:
    """The plan in one format; `color` applies to text only (markdown and JSON never carry it)."""
    if fmt == "text":
        return render_text(plan, color=color)
    if fmt == "markdown":
        return render_markdown(plan)
    if fmt == "json":
        return render_json(plan)
    raise ValueError(f"unknown plan format {fmt!r}; expected one of {', '.join(FORMATS)}")
