"""Plans: engine events and node-level diffs collected into a Plan, then rendered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from styx._lazy import lazy_exports

if TYPE_CHECKING:
    from styx.plan._collect import steps_from_events
    from styx.plan._jobs import RunningJob, jobs_at_risk, node_steps
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
    from styx.plan._nodes import NodeSetupState, node_changes
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
    "NodeSetupState",
    "Plan",
    "PropertyChange",
    "RunningJob",
    "Step",
    "comment_marker",
    "display_type",
    "jobs_at_risk",
    "node_changes",
    "node_steps",
    "plan_from_dict",
    "plan_from_json",
    "plan_schema",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
    "steps_from_events",
]

# Each name is imported from its module when first read (styx._lazy), so a command
# loads only the modules it uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "styx.plan._collect": ("steps_from_events",),
        "styx.plan._jobs": (
            "RunningJob",
            "jobs_at_risk",
            "node_steps",
        ),
        "styx.plan._json": (
            "plan_from_dict",
            "plan_from_json",
            "plan_schema",
            "render_json",
        ),
        "styx.plan._markdown": (
            "CI_HEADROOM",
            "GITHUB_COMMENT_LIMIT",
            "comment_marker",
            "render_markdown",
        ),
        "styx.plan._model": (
            "FORMAT_VERSION",
            "SECRET",
            "Action",
            "DiffKind",
            "NodeChange",
            "Plan",
            "PropertyChange",
            "Step",
        ),
        "styx.plan._nodes": (
            "NodeSetupState",
            "node_changes",
        ),
        "styx.plan._text": (
            "display_type",
            "render_text",
        ),
    },
)

Format = Literal["text", "markdown", "json"]
# The formats `render` takes, in the order a --format option lists them.
FORMATS: tuple[Format, ...] = ("text", "markdown", "json")


def render(plan: Plan, fmt: Format, color: bool = False) -> str:
    """The plan in one format; `color` applies to text only (markdown and JSON never carry it)."""
    if fmt == "text":
        from styx.plan._text import render_text

        return render_text(plan, color=color)
    if fmt == "markdown":
        from styx.plan._markdown import render_markdown

        return render_markdown(plan)
    if fmt == "json":
        from styx.plan._json import render_json

        return render_json(plan)
    raise ValueError(f"unknown plan format {fmt!r}; expected one of {', '.join(FORMATS)}")
