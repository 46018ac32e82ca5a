"""`styx compile`: print a task's resource graph (and the instance choice) with no engine."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click

from styx.cli._common import TaskArgs, target_options
from styx.compile import ResourceGraph
from styx.workflow import compile_target

__all__ = ["compile_command", "render_graph_text"]

_LONG_TEXT = 3  # lines of a long string value shown before "... (N lines)"


@click.command("compile")
@target_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text for people, json for programs.")
def compile_command(task_args: TaskArgs, output_format: str) -> None:
    """Compile TASK into the resources its cloud would create, without touching the cloud.

    Needs no engine and no credentials. On AWS it also shows the instance types that fit
    and the one chosen (the cheapest, or the first fitting `ordered` candidate).
    """
    graph = compile_target(task_args.resolve())
    choice = graph.choice
    if output_format == "json":
        data = graph.to_dict()
        data["optimizer"] = choice.to_dict() if choice is not None else None
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    click.echo(render_graph_text(graph), nl=False)
    if choice is not None:
        click.echo()
        click.echo(choice.table(len(graph.nodes)), nl=False)


def render_graph_text(graph: ResourceGraph) -> str:
    """The graph for a terminal: each resource with its arguments, references as `-> x.y`."""
    lines = [
        f"{graph.cluster} on {graph.cloud}: {len(graph.nodes)} node"
        f"{'s' if len(graph.nodes) != 1 else ''} ({', '.join(graph.nodes)}), "
        f"${graph.hourly_cost:.4f}/h",
    ]
    for warning in graph.warnings:
        lines.append(f"warning: {warning}")
    for decl in graph.resources:
        after = f"  (after {', '.join(decl.depends_on)})" if decl.depends_on else ""
        lines.append("")
        lines.append(f"{decl.name}  [{decl.kind}]{after}")
        lines.extend(_value_lines(decl.args, "  "))
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    if isinstance(value, Mapping) and set(value) == {"$ref"}:
        return f"-> {value['$ref']}"
    if isinstance(value, str):
        return value if value and value.strip() == value and "\n" not in value else repr(value)
    return json.dumps(value)


def _value_lines(value: Any, indent: str) -> list[str]:
    out: list[str] = []
    if isinstance(value, Mapping) and set(value) != {"$ref"}:
        for key, item in value.items():
            if _is_block(item):
                out.append(f"{indent}{key}:")
                out.extend(_value_lines(item, indent + "  "))
            elif isinstance(item, str) and item.count("\n") > _LONG_TEXT:
                shown = item.splitlines()[:_LONG_TEXT]
                out.append(f"{indent}{key}: |  ({len(item.splitlines())} lines)")
                out.extend(f"{indent}  {line}" for line in shown)
                out.append(f"{indent}  ...")
            else:
                out.append(f"{indent}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if _is_block(item):
                nested = _value_lines(item, indent + "  ")
                out.append(f"{indent}- {nested[0].lstrip()}")
                out.extend(nested[1:])
            else:
                out.append(f"{indent}- {_scalar(item)}")
    return out


def _is_block(value: Any) -> bool:
    if isinstance(value, Mapping):
        return bool(value) and set(value) != {"$ref"}
    return isinstance(value, list) and bool(value)
