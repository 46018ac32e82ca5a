"""`styx rollback [CLUSTER] N`: plan the way back to version N's task, confirm, apply it."""

from __future__ import annotations

from pathlib import Path

import click

from styx.cli._common import terminal_reporter, use_color
from styx.cli.history import resolve_ref, stack_location_options
from styx.plan import Plan, render_text

__all__ = ["rollback_command"]


@click.command("rollback")
@click.argument("args", nargs=-1, required=True, metavar="[CLUSTER] N")
@stack_location_options
@click.option("--secret", "secrets", multiple=True, metavar="KEY[=VAL]",
              help="A secret of that version's task; a bare KEY (or none given) is read "
                   "from your environment (repeatable).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before applying.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def rollback_command(
    args: tuple[str, ...], stack_file: Path | None, backend_url: str | None,
    secrets: tuple[str, ...], yes: bool, quiet: bool,
) -> None:
    """Bring a cluster back to version N's task: shown and confirmed like apply, applied as a
    new version."""
    from styx.cli._common import _pairs
    from styx.workflow import rollback

    if len(args) not in (1, 2) or not args[-1].isdigit():
        raise click.UsageError("give the version to go back to: styx rollback [CLUSTER] N")
    ref = resolve_ref(args[0] if len(args) == 2 else None, stack_file, backend_url)
    version = int(args[-1])
    declined = False

    def confirm(plan: Plan) -> bool:
        nonlocal declined
        click.echo(f"Rolling {ref.qualified} back to the task of version {version}:")
        click.echo(render_text(plan, color=use_color()), nl=False)
        declined = not (yes or click.confirm("\nApply these changes?", default=False))
        return not declined

    result = rollback(ref, version, secrets=_pairs(secrets, "--secret", bare_from_env=True),
                      confirm=confirm, reporter=terminal_reporter(quiet))  # fmt: skip
    if declined:
        click.echo("Nothing changed.")
        raise click.exceptions.Exit(1)
    if not result.applied:
        click.echo(render_text(result.plan, color=use_color()), nl=False)
        return
    click.echo(f"\nRolled {ref.qualified} back to the task of version {version} "
               f"(now version {result.stack_version}): {len(result.nodes)} node(s) up; "
               f"setup ran on {len(result.setup_ran)}.")  # fmt: skip
