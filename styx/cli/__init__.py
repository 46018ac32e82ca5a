"""The `styx` command: thin click commands over the library, one module per command group."""

from __future__ import annotations

import os
import sys
import traceback
from typing import NoReturn

import click

from styx.cli._app import cli
from styx.cli.catalog import catalog_group
from styx.cli.check import check_command
from styx.cli.cluster import (
    apply_command,
    down_command,
    exec_command,
    launch_command,
    plan_command,
)
from styx.cli.compile import compile_command
from styx.cli.engine import engine_group
from styx.cli.jobs import cancel_command, logs_command, queue_command
from styx.cli.status import status_command
from styx.cli.validate import validate_command
from styx.errors import StyxError

__all__ = ["cli", "main"]

cli.add_command(catalog_group)
for command in (
    plan_command,
    apply_command,
    exec_command,
    launch_command,
    status_command,
    down_command,
):
    cli.add_command(command)
cli.add_command(check_command)
cli.add_command(compile_command)
cli.add_command(engine_group)
cli.add_command(validate_command)
cli.add_command(queue_command)
cli.add_command(logs_command)
cli.add_command(cancel_command)


def _debug() -> bool:
    return os.environ.get("STYX_DEBUG", "") not in ("", "0", "false")


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run the CLI, turning Styx errors into one red line and exit code 1."""
    try:
        # Not standalone: click hands back exit codes instead of exiting, so Styx's own
        # errors, click's usage errors and ctx.exit(code) all leave through here.
        code = cli.main(args=argv, prog_name="styx", standalone_mode=False)
    except StyxError as err:
        if _debug():
            traceback.print_exc()
        click.secho(f"error: {err}", fg="red", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as err:
        # Usage errors are bad input like any other: exit 1, because 2 means
        # "changes present" under `plan --detailed-exitcode`.
        err.show()
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
