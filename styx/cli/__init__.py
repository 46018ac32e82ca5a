"""The `styx` command: thin click commands over the library, one module per command group."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import traceback

# Not `import gc`: the `styx gc` command's module, styx.cli.gc, would shadow it here.
from gc import collect as _collect_garbage
from typing import NoReturn

import click

from styx import _interrupts
from styx._fs import storage_error
from styx.cli._app import LazyCommand, cli
from styx.errors import Interrupted, StyxError
from styx.home import restrict_umask

__all__ = ["cli", "main"]

# name -> (module, attribute, the command's short help). A command's module is imported only
# when that command runs; tests/unit/cli/test_startup.py keeps the summaries equal to the
# commands' own and checks which libraries each pure command loads.
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "autostop": ("styx.cli.lifecycle", "autostop_command",
                 "Set (-i N [--down]) or cancel the cluster's autostop: a plan and apply of "
                 "that change."),
    "start": ("styx.cli.lifecycle", "start_command",
              "Start a stopped (or autostopped) cluster again as a plan change; setup only "
              "where needed."),
    "stop": ("styx.cli.lifecycle", "stop_command",
             "Stop the cluster's nodes (folders and disks kept) as a plan change; `start` "
             "resumes."),
    "apply": ("styx.cli.cluster", "apply_command",
              "Show the plan, ask, provision the cluster, then set its nodes up."),
    "catalog": ("styx.cli.catalog", "catalog_group",
                "The AWS instance catalog the optimizer chooses from."),
    "check": ("styx.cli.check", "check_command",
              "Check the engine, ansible, OpenSSH, AWS credentials and the state backend."),
    "compile": ("styx.cli.compile", "compile_command",
                "Compile TASK into the resources its cloud would create, without touching "
                "the cloud."),
    "cost-report": ("styx.cli.cost_report", "cost_report_command",
                    "Show each cluster's cost so far, computed from its stack's history."),
    "diff": ("styx.cli.diff", "diff_command",
             "Show what changed from version A to version B (default: the latest) of a "
             "cluster."),
    "down": ("styx.cli.cluster", "down_command",
             "Tear a cluster down, by name or by task (the stack and its history stay)."),
    "engine": ("styx.cli.engine", "engine_group",
               "Install or locate Pulumi's engine (the `pulumi` command)."),
    "gc": ("styx.cli.gc", "gc_command",
           "Remove what the retention policy no longer keeps under STYX_HOME."),
    "exec": ("styx.cli.exec", "exec_command",
             "Queue a task's `run` or a command on a cluster and follow its output (Ctrl-C "
             "stops following)."),
    "history": ("styx.cli.history", "history_command",
                "Show a cluster's versions: when, who, git commit, what changed, how it went."),
    "launch": ("styx.cli.cluster", "launch_command",
               "Apply, then exec: SkyPilot's `sky launch` habit."),
    "plan": ("styx.cli.cluster", "plan_command",
             "Show what `styx apply` would change, without changing anything."),
    "rollback": ("styx.cli.rollback", "rollback_command",
                 "Bring a cluster back to version N's task: shown and confirmed like apply, "
                 "applied as a new version."),
    "show": ("styx.cli.show", "show_command",
             "Show a saved plan, or the task, outputs and node outcomes of a cluster's "
             "version."),
    "state": ("styx.cli.state", "state_group",
              "Export a stack's state and history to a file, or import one into a backend."),
    "status": ("styx.cli.status", "status_command",
               "Show each cluster: where, what, its state, jobs, autostop and cost per hour."),
    "queue": ("styx.cli.jobs", "queue_command",
              "Show the jobs of each cluster (every cluster when none is named)."),
    "logs": ("styx.cli.jobs", "logs_command",
             "Print a job's output (the latest job when none is named), prefixed per node."),
    "cancel": ("styx.cli.jobs", "cancel_command",
               "Cancel jobs: every process of each ends on every node, daemonised ones "
               "included."),
    "unlock": ("styx.cli.unlock", "unlock_command",
               "Release STACK's locks (only LOCK_ID if given) after showing who holds them."),
    "validate": ("styx.cli.validate", "validate_command",
                 "Check TASK (SkyPilot's task YAML) and show what Styx understood."),
}

for _name, (_module, _attribute, _summary) in _COMMANDS.items():
    cli.add_lazy(_name, LazyCommand(_module, _attribute, _summary))


def _debug() -> bool:
    return os.environ.get("STYX_DEBUG", "") not in ("", "0", "false")


_WRITE_ERRNOS = frozenset({errno.EROFS, errno.ENOSPC, errno.EDQUOT})


def _fail(err: StyxError) -> NoReturn:
    from styx.cli._common import use_color

    if _debug():
        traceback.print_exc()
    line = f"error: {err}"
    click.echo(click.style(line, fg="red") if use_color(sys.stderr) else line, err=True)
    sys.exit(1)


def _unraisable_after_interrupt(unraisable: sys.UnraisableHookArgs) -> None:
    if _debug():
        sys.__unraisablehook__(unraisable)


def _interrupted(err: Interrupted | None) -> NoReturn:
    """Ctrl-C: stop what we started, say what goes on running where, exit 130."""
    from styx import _supervise

    # The engine cancels cleanly on SIGINT; ansible-playbook is stopped with its workers.
    _supervise.stop_supervised_children(signal.SIGTERM)
    # An interrupt can leave a library's object half-built (pexpect's PtyProcess, cut off in
    # its constructor); its finaliser then fails at exit with "Exception ignored ...
    # Traceback". That is noise after a Ctrl-C, not news: shown only under STYX_DEBUG.
    sys.unraisablehook = _unraisable_after_interrupt
    _collect_garbage()
    click.echo("Interrupted.", err=True)
    if err is not None and err.still_running:
        click.echo(f"{err.message}: {err.still_running}", err=True)
    elif err is not None:
        click.echo(f"{err.message}; nothing Styx started goes on running.", err=True)
    else:
        click.echo("Nothing Styx started goes on running; `styx plan` shows where things "
                   "stand.", err=True)  # fmt: skip
    sys.exit(130)


def _thread_failed(args: threading.ExceptHookArgs) -> None:
    # Interrupted between two engine commands, the Automation API closes a command's pipes
    # while its reader threads still read them: a race of theirs, harmless once we stop.
    closed = isinstance(args.exc_value, ValueError) and "closed file" in str(args.exc_value)
    if closed and args.thread is not None and args.thread.name.endswith("(consumer)"):
        return
    threading.__excepthook__(args)


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run the CLI, turning Styx errors into one red line and exit code 1."""
    # Everything written under STYX_HOME, by us or by the engine, ansible and local nodes we
    # start, may hold a secret or a job's output: private to the user (0600/0700).
    restrict_umask()
    _interrupts.install()
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
        # Here, not at the top: _common brings the task options (and styx.spec) with it.
        from styx.cli._common import use_color

        line = f"error: {err}"
        click.echo(click.style(line, fg="red") if use_color(sys.stderr) else line, err=True)
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
    except OSError as err:
        # The last resort for a write no module turned into a StorageError: a full disk
        # or a read-only folder is still one line, naming the path.
        _fail(storage_error(err, action="write" if err.errno in _WRITE_ERRNOS else "use"))
    except subprocess.TimeoutExpired as err:
        command = err.cmd if isinstance(err.cmd, str) else " ".join(map(str, err.cmd))
        _fail(StyxError(f"`{command[:120]}` did not finish within {err.timeout:g} s"))
    if _interrupts.pending():
        # Delivered where Python drops it ("Exception ignored in ..."): still a Ctrl-C.
        _interrupted(None)
    sys.exit(code if isinstance(code, int) else 0)
