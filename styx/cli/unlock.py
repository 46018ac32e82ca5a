"""`styx unlock STACK [LOCK_ID]`: show what holds a stack's locks, then release them."""

from __future__ import annotations

from pathlib import Path

import click

from styx.engine import StackRef
from styx.spec import load_stack
from styx.workflow import PROJECT, stack_locks, unlock_stack

__all__ = ["unlock_command"]


@click.command("unlock")
@click.argument("stack")
@click.argument("lock_id", required=False)
@click.option("--stack-file", type=click.Path(path_type=Path, dir_okay=False),
              help="A stack file naming the state backend and passphrase of STACK.")
@click.option("--force", is_flag=True,
              help="Release an engine lock even though its holder may be alive (another host).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before releasing.")
def unlock_command(
    stack: str, lock_id: str | None, stack_file: Path | None, force: bool, yes: bool
) -> None:
    """Release STACK's locks (only LOCK_ID if given) after showing who holds them."""
    ref = StackRef(PROJECT, stack)
    if stack_file is not None:
        loaded = load_stack(stack_file)
        if loaded.backend_url:
            ref = StackRef(PROJECT, stack, loaded.backend_url, loaded.passphrase_file)
    locks = stack_locks(ref)
    if not locks:
        click.echo(f"{ref.qualified} is not locked.")
        return
    for lock in locks:
        state = "gone" if lock.gone else "may be alive"
        click.echo(f"  {lock.kind} lock {lock.lock_id}: held by {lock.holder} ({state})")
    if not (yes or click.confirm("Release?", default=False)):
        raise click.exceptions.Exit(1)
    result = unlock_stack(ref, lock_id, force=force)
    click.echo(f"Released {len(result.released)} lock(s) of {ref.qualified}.")
