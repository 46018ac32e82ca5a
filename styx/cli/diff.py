"""`styx diff [CLUSTER] A [B]`: what changed from version A to B, as a plan."""

from __future__ import annotations

from pathlib import Path

import click

from styx.cli._common import use_color
from styx.cli.history import resolve_ref, stack_location_options
from styx.plan import FORMATS, Format, render

__all__ = ["diff_command"]


@click.command("diff")
@click.argument("args", nargs=-1, required=True, metavar="[CLUSTER] A [B]")
@stack_location_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for a terminal, markdown for a pull-request comment, json for programs.")
def diff_command(
    args: tuple[str, ...], stack_file: Path | None, backend_url: str | None, fmt: Format
) -> None:
    """Show what changed from version A to version B (default: the latest) of a cluster."""
    from styx.workflow import diff_versions

    cluster: str | None = None
    numbers = list(args)
    if numbers and not numbers[0].isdigit():
        cluster = numbers.pop(0)
    if not 1 <= len(numbers) <= 2 or not all(n.isdigit() for n in numbers):
        raise click.UsageError("give one or two version numbers: styx diff [CLUSTER] A [B]")
    ref = resolve_ref(cluster, stack_file, backend_url)
    plan = diff_versions(ref, int(numbers[0]), int(numbers[1]) if len(numbers) > 1 else None)
    click.echo(render(plan, fmt, color=use_color()), nl=False)
