"""`styx show PLAN.json | [CLUSTER] [--version N]`: a saved plan, or a version of a stack."""

from __future__ import annotations

import json
from pathlib import Path

import click

from styx.cli._common import use_color
from styx.cli.history import stack_location_options
from styx.errors import StyxError
from styx.plan import FORMATS, Format, render
from styx.workflow import read_plan_file

__all__ = ["show_command"]


@click.command("show")
@click.argument("what", metavar="PLAN.json | CLUSTER", required=False)
@click.option("--version", "version", type=int, metavar="N",
              help="Of a cluster: the version to show (default: the latest Styx applied).")
@stack_location_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for a terminal, markdown for a pull-request comment, json for programs.")
def show_command(
    what: str | None, version: int | None, stack_file: Path | None, backend_url: str | None,
    fmt: Format,
) -> None:
    """Show a saved plan, or the task, outputs and node outcomes of a cluster's version.

    A path to a plan saved by `styx plan -o FILE` (or printed by `--format json`) shows that
    plan and reads nothing else: no engine, no state, no secrets. Otherwise WHAT names a
    cluster: its version N (the latest by default) as recorded in the backend: the task as
    applied (YAML, secrets by name only), its outputs and each node's setup outcome.
    """
    if what is not None and Path(what).is_file() and version is None:
        plan = read_plan_file(Path(what))
        click.echo(render(plan, fmt, color=use_color()), nl=False)
        return
    if what is not None and (what.endswith(".json") or "/" in what) and version is None:
        raise StyxError(f"not a saved plan: {what} (no such file); make one with "
                        f"`styx plan TASK -o {Path(what).name}`")
    from styx.cli.history import resolve_ref
    from styx.workflow import dump_yaml, show_version, task_yaml

    if fmt == "markdown":
        raise StyxError("a cluster's version shows as text (YAML) or json; markdown is for "
                        "plans (`styx diff --format markdown` renders the change as one)")
    ref = resolve_ref(what, stack_file, backend_url)
    record = show_version(ref, version).record
    if fmt == "json":
        click.echo(json.dumps(record.to_dict(), indent=2, sort_keys=True))
        return
    click.echo(f"# {ref.qualified} version {record.version}: {record.kind} by {record.who}"
               f", commit {record.git_commit or '-'}{' (dirty)' if record.git_dirty else ''}; "
               f"{record.summary()}; {record.describe_result()}")  # fmt: skip
    click.echo(task_yaml(record), nl=False)
    click.echo("# outputs")
    outputs = {k: v for k, v in record.outputs.items() if k != "node_fields"}
    click.echo(dump_yaml({"outputs": dict(sorted(outputs.items()))}), nl=False)
    click.echo("# node outcomes")
    nodes = {n: {k: v for k, v in o.items() if v} for n, o in record.nodes.items()}
    click.echo(dump_yaml({"nodes": nodes or "none recorded"}), nl=False)
