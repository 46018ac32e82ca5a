"""The `styx` command: thin click commands over the library, one module per command group."""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from types import FrameType
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
from styx.cli.status import status_command
from styx.cli.unlock import unlock_command
from styx.cli.validate import validate_command
from styx.errors import Interrupted, StyxError

__all__ = ["cli", "main"]

cli.add_command(catalog_group)
for command in (
    plan_command,
    apply_command,
    exec_command,
    launch_command,
    status_command,
    down_command,
    unlock_command,
):
    cli.add_command(command)
cli.add_command(check_command)
cli.add_command(compile_command)
cli.add_command(engine_group)
cli.add_command(validate_command)


def _debug() -> bool:
    return os.environ.get("STYX_DEBUG", "") not in ("", "0", "false")


def _interrupted(err: Interrupted | None) -> NoReturn:
    """Ctrl-C: stop what we started, say what goes on running where, exit 130."""
    from styx import _supervise

    # The engine cancels cleanly on SIGINT; ansible-playbook is stopped with its workers.
    _supervise.stop_supervised_children(signal.SIGTERM)
    click.echo("Interrupted.", err=True)
    if err is not None and err.still_running:
        click.echo(f"{err.message}: {err.still_running}", err=True)
    elif err is not None:
        click.echo(f"{err.message}; nothing Styx started goes on running.", err=True)
    else:
        click.echo("Nothing Styx started goes on running; `styx plan` shows where things "
                   "stand.", err=True)  # fmt: skip
    sys.exit(130)


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    # SIGTERM ends Styx the way Ctrl-C does: locks released, outcomes recorded.
    raise KeyboardInterrupt


def _thread_failed(args: threading.ExceptHookArgs) -> None:
    # Interrupted between two engine commands, the Automation API closes a command's pipes
    # while its reader threads still read them: a race of theirs, harmless once we stop.
    closed = isinstance(args.exc_value, ValueError) and "closed file" in str(args.exc_value)
    if closed and args.thread is not None and args.thread.name.endswith("(consumer)"):
        return
    threading.__excepthook__(args)


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run the CLI, turning Styx errors into one red line and exit code 1."""
    signal.signal(signal.SIGTERM, _terminate)
    threading.excepthook = _thread_failed
    try:
        # Not standalone: click hands back exit codes instead of exiting, so Styx's own
        # errors, click's usage errors and ctx.exit(code) all leave through here.
        code = cli.main(args=argv, prog_name="styx", standalone_mode=False)
    except Interrupted as err:
        if _debug():
            traceback.print_exc()
        _interrupted(err)
    except StyxError as err:
        if _debug():
            traceback.print_exc()
        click.secho(f"error: {err}", fg="red", err=True)
        sys.exit(1)
    except click.exceptions.Abort as err:
        # click turns Ctrl-C into Abort; only a closed prompt (EOF) is a plain abort.
        if isinstance(err.__cause__ or err.__context__, KeyboardInterrupt):
            _interrupted(None)
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as err:
        # Usage errors are bad input like any other: exit 1, because 2 means
        # "changes present" under `plan --detailed-exitcode`.
        err.show()
        sys.exit(1)
    except KeyboardInterrupt:
        _interrupted(None)
    sys.exit(code if isinstance(code, int) else 0)
