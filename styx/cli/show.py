"""`styx show PLAN.json`: render a saved plan as `styx plan` printed it, without the engine."""

from __future__ import annotations

from pathlib import Path

import click

from styx.cli._common import use_color
from styx.errors import StyxError
from styx.plan import FORMATS, Format, render
from styx.workflow import read_plan_file

__all__ = ["show_command"]


@click.command("show")
@click.argument("what", metavar="PLAN.json")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for a terminal, markdown for a pull-request comment, json for programs.")
def show_command(what: str, fmt: Format) -> None:
    """Show a plan saved by `styx plan -o FILE` (or printed by `--format json`).

    Nothing is read but the file: no engine, no state, no credentials, no secrets.
    The text is the same `styx plan` printed when it saved the plan.
    """
    path = Path(what)
    if not path.is_file():
        # `styx show CLUSTER` (a stack's versions) is meant to share this command one day.
        raise StyxError(f"not a saved plan: {what} (no such file); make one with "
                        f"`styx plan TASK -o {path.name if path.suffix else 'plan.json'}`")
    plan = read_plan_file(path)
    click.echo(render(plan, fmt, color=use_color()), nl=False)
