"""Render a Plan for a terminal: a per-resource diff with property changes, then the summary."""

from __future__ import annotations

import json
from typing import Any

import click

from styx.plan._model import Action, DiffKind, Plan, PropertyChange, Step

__all__ = ["display_type", "render_text"]

_SYMBOL = {
    Action.CREATE: ("+", "green"),
    Action.UPDATE: ("~", "yellow"),
    Action.REPLACE: ("-/+", "magenta"),
    Action.DELETE: ("-", "red"),
}
_PROPERTY_SYMBOL = {DiffKind.ADD: "+", DiffKind.UPDATE: "~", DiffKind.DELETE: "-"}
_MAX_VALUE = 80


def display_type(resource_type: str) -> str:
    """`pulumi-python:dynamic/local:Node` reads as `local:Node`; provider types stay as they are."""
    return resource_type.removeprefix("pulumi-python:dynamic/")


def _value(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if value is not None else "null"
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."


def _property_line(change: PropertyChange) -> str:
    symbol = _PROPERTY_SYMBOL[change.kind]
    if change.kind is DiffKind.ADD:
        body = f"{change.path}: {_value(change.new)}"
    elif change.kind is DiffKind.DELETE:
        body = f"{change.path}: {_value(change.old)}"
    else:
        body = f"{change.path}: {_value(change.old)} -> {_value(change.new)}"
    suffix = " (forces replacement)" if change.replaces else ""
    return f"      {symbol} {body}{suffix}"


def _step_lines(step: Step, color: bool, label: str | None = None) -> list[str]:
    symbol, fg = _SYMBOL.get(step.action, (" ", "white"))
    head = f"  {symbol:<3} {display_type(step.type)} {step.name}"
    reasons = f" (because of {', '.join(step.replace_reasons)})" if step.replace_reasons else ""
    line = f"{head}  {label or step.action.value}{reasons}"
    lines = [click.style(line, fg=fg) if color else line]
    lines.extend(_property_line(c) for c in step.changes)
    return lines


def render_text(plan: Plan, *, color: bool = False) -> str:
    """The plan as a terminal reads it, in the plan's canonical order; plain text unless `color`."""
    plan = plan.sorted()

    def heading(text: str) -> str:
        return click.style(text, bold=True) if color else text

    out = [heading(f"Stack {plan.project}/{plan.stack} ({plan.cloud}), "
                   f"against version {plan.stack_version}"), ""]
    if plan.drift:
        out.append(heading("Drift (changed outside Styx, found by refresh):"))
        for step in plan.drift:
            label = "gone" if step.action is Action.DELETE else "drifted"
            out.extend(_step_lines(step, color, label))
        out.append("")
    if plan.changes:
        out.append(heading("Infrastructure:"))
        for step in plan.changes:
            out.extend(_step_lines(step, color))
        out.append("")
    if plan.node_changes:
        out.append(heading("Nodes:"))
        for change in plan.node_changes:
            nodes = f" [{', '.join(change.nodes)}]" if change.nodes else ""
            out.append(f"  ~ {change.summary}{nodes}")
        out.append("")
    if plan.warnings:
        out.append(heading("Warnings:"))
        for warning in plan.warnings:
            line = f"  ! {warning}"
            out.append(click.style(line, fg="yellow") if color else line)
        out.append("")
    if not plan.has_changes:
        out.append("No changes. The cluster matches the task.")
    out.append(heading(plan.summary()))
    return "\n".join(out) + "\n"
