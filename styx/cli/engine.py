"""`styx engine`: install and locate the Pulumi engine."""

from __future__ import annotations

import click

from styx.engine import find_engine, install_engine, sdk_version
from styx.errors import EngineNotFoundError

__all__ = ["engine_group"]


@click.group("engine")
def engine_group() -> None:
    """Install or locate Pulumi's engine (the `pulumi` command)."""


@engine_group.command("install")
@click.option("-q", "--quiet", is_flag=True, help="Print only the engine's path.")
def install_command(quiet: bool) -> None:
    """Find, install or build the engine matching the Pulumi SDK.

    \b
    In order: a matching `pulumi` already here (Styx's or on PATH), Pulumi's official
    installer, a build from source through the Go module proxy.
    """

    def progress(message: str) -> None:
        if not quiet:
            click.echo(message, err=True)

    engine = install_engine(progress)
    if quiet:
        click.echo(str(engine.path))
    else:
        click.echo(f"pulumi {engine.version} ({engine.source}): {engine.path}")


@engine_group.command("path")
def path_command() -> None:
    """Print the path of the `pulumi` command Styx uses."""
    engine = find_engine()
    if engine is None:
        raise EngineNotFoundError(
            f"no Pulumi engine {sdk_version()} found; run `styx engine install`"
        )
    click.echo(str(engine.path))
