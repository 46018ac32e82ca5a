"""The `styx` command: thin click commands over the library, one module per command group."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from styx.cli._app import LazyCommand, cli
from styx.errors import StyxError
from styx.home import restrict_umask

__all__ = ["cli", "main"]

# name -> (module, attribute, the command's short help). A command's module is imported only
# when that command runs; tests/unit/cli/test_startup.py keeps the summaries equal to the
# commands' own and checks which libraries each pure command loads.
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "apply": ("styx.cli.cluster", "apply_command",
              "Show the plan, ask, provision the cluster, then set its nodes up."),
    "catalog": ("styx.cli.catalog", "catalog_group",
                "The AWS instance catalog the optimizer chooses from."),
    "check": ("styx.cli.check", "check_command",
              "Check the engine, ansible, OpenSSH, AWS credentials and the state backend."),
    "compile": ("styx.cli.compile", "compile_command",
                "Compile TASK into the resources its cloud would create, without touching "
                "the cloud."),
    "down": ("styx.cli.cluster", "down_command",
             "Tear the cluster down (the stack and its history stay)."),
    "engine": ("styx.cli.engine", "engine_group",
               "Install or locate Pulumi's engine (the `pulumi` command)."),
    "gc": ("styx.cli.gc", "gc_command",
           "Remove what the retention policy no longer keeps under STYX_HOME."),
    "exec": ("styx.cli.cluster", "exec_command",
             "Run the task's `run` on every node of its cluster at once."),
    "launch": ("styx.cli.cluster", "launch_command",
               "Apply, then exec: SkyPilot's `sky launch` habit."),
    "plan": ("styx.cli.cluster", "plan_command",
             "Show what `styx apply` would change, without changing anything."),
    "show": ("styx.cli.show", "show_command",
             "Show a plan saved by `styx plan -o FILE` (or printed by `--format json`)."),
    "status": ("styx.cli.status", "status_command",
               "Show every cluster, its nodes and whether they answer now."),
    "validate": ("styx.cli.validate", "validate_command",
                 "Check TASK (SkyPilot's task YAML) and show what Styx understood."),
}

for _name, (_module, _attribute, _summary) in _COMMANDS.items():
    cli.add_lazy(_name, LazyCommand(_module, _attribute, _summary))


def _debug() -> bool:
    return os.environ.get("STYX_DEBUG", "") not in ("", "0", "false")


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run the CLI, turning Styx errors into one red line and exit code 1."""
    # Everything written under STYX_HOME, by us or by the engine, ansible and local nodes we
    # start, may hold a secret or a job's output: private to the user (0600/0700).
    restrict_umask()
    try:
        # Not standalone: click hands back exit codes instead of exiting, so Styx's own
        # errors, click's usage errors and ctx.exit(code) all leave through here.
        code = cli.main(args=argv, prog_name="styx", standalone_mode=False)
    except StyxError as err:
        if _debug():
            import traceback  # only here: it costs every start-up tens of milliseconds

            traceback.print_exc()
        # Here, not at the top: _common brings the task options (and styx.spec) with it.
        from styx.cli._common import use_color

        line = f"error: {err}"
        click.echo(click.style(line, fg="red") if use_color(sys.stderr) else line, err=True)
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
