"""`styx stop | start | autostop`: a cluster's life as plan changes, and the autostop flags.

Each is a plan and an apply like any other: `stop` plans every node's state running ->
stopped (folders and disks kept, the cost after is the disks'), `start` plans them running
again (setup re-runs only where the outcome record says it must; the agent and its queue
come back), `autostop` plans the one change of the cluster's autostop setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import click

from styx.cli._common import TaskArgs, target_options, terminal_reporter, use_color

if TYPE_CHECKING:
    from styx.plan import Plan
    from styx.workflow import AutostopOverride, Target

__all__ = [
    "autostop_command",
    "autostop_options",
    "autostop_override",
    "set_autostop",
    "start_command",
    "stop_command",
    "with_options",
]

F = TypeVar("F", bound=Callable[..., Any])


def autostop_options(func: F) -> F:
    """-i/--idle-minutes-to-autostop and --down, as SkyPilot's launch/exec take them."""
    func = click.option("--down", "autostop_down", is_flag=True, default=None,
                        help="Tear the cluster down (not stop it) when autostop fires.")(func)
    return click.option(
        "-i", "--idle-minutes-to-autostop", "idle_minutes", type=click.IntRange(min=0),
        help="Stop the cluster after this many idle minutes (wins over the task's autostop).",
    )(func)


def autostop_override(
    idle_minutes: int | None, down: bool | None, cancel: bool = False
) -> AutostopOverride | None:
    """The flags as an override of the task's autostop (None: no flag given)."""
    from styx.workflow import AutostopOverride

    if idle_minutes is None and not down and not cancel:
        return None
    return AutostopOverride(idle_minutes, True if down else None, cancel)


def with_options(task_args: TaskArgs, **changes: Any) -> TaskArgs:
    return TaskArgs(task_args.task, replace(task_args.options, **changes))


def lifecycle_target(task_args: TaskArgs, quiet: bool, **changes: Any) -> Target:
    """The target a lifecycle command changes: a task file's, or a cluster's by name.

    A word is read as `styx down` reads it (a task file when one exists, else a cluster);
    a cluster named without its task file changes the task its last version applied.
    """
    from styx.workflow import applied_target, choose_task_or_cluster, require_cluster

    options = task_args.options
    name: str | None = None
    if task_args.task is None and options.stack_file is None and options.stack_name:
        name = options.stack_name
    elif task_args.task is not None and options.stack_file is None and not options.stack_name:
        choice = choose_task_or_cluster(str(task_args.task))
        if choice.note and not quiet:
            click.echo(choice.note, err=True)
        name = choice.word if choice.kind == "cluster" else None
    if name is None:
        return with_options(task_args, **changes).resolve()
    target = applied_target(require_cluster(name), options.secret_overrides)
    autostop: AutostopOverride | None = changes.get("autostop")
    spec = autostop.apply(target.spec) if autostop is not None else target.spec
    return replace(target, spec=spec, node_state=changes.get("node_state", "running"))


def _confirm(yes: bool, question: str) -> Callable[[Plan], bool]:
    from styx.plan import render_text

    def confirm(plan: Plan) -> bool:
        click.echo(render_text(plan, color=use_color()), nl=False)
        return yes or click.confirm(f"\n{question}", default=False)

    return confirm


def _apply(target: Target, yes: bool, quiet: bool, question: str,
           check: Callable[[Plan], None] | None = None) -> bool:
    """Plan (with refresh), show, ask, apply; False when nothing was applied."""
    from styx.plan import render_text
    from styx.workflow import apply_target

    confirm = _confirm(yes, question)

    def checked(plan: Plan) -> bool:
        if check is not None:
            check(plan)
        return confirm(plan)

    result = apply_target(target, confirm=checked, refresh=True,
                          reporter=terminal_reporter(quiet))  # fmt: skip
    if not result.applied:
        if not (result.plan.has_changes or result.plan.drift):
            click.echo(render_text(result.plan, color=use_color()), nl=False)
        else:
            click.echo("Nothing changed.")
        return False
    plan = result.plan
    nodes = (f"{len(result.nodes)} node(s) up; setup ran on {len(result.setup_ran)}; "
             if result.nodes else "the nodes are stopped, their disks kept; ")  # fmt: skip
    click.echo(f"\nApplied {target.ref.qualified} (version {result.stack_version}): {nodes}"
               f"cost ${plan.cost_before:.2f}/h -> ${plan.cost_after:.2f}/h"
               f"{' (disks only)' if not result.nodes else ''}.")  # fmt: skip
    return True


@click.command("stop")
@target_options
@click.option("-y", "--yes", is_flag=True, help="Do not ask before stopping.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def stop_command(task_args: TaskArgs, yes: bool, quiet: bool) -> None:
    """Stop the cluster's nodes (folders and disks kept) as a plan change; `start` resumes.

    TASK may also be a cluster's name (`styx stop mycluster`): the task its last version
    applied, read from the stack's backend.
    """
    target = lifecycle_target(task_args, quiet, node_state="stopped")
    _apply(target, yes, quiet, "Stop these nodes?")


@click.command("start")
@target_options
@click.option("-y", "--yes", is_flag=True, help="Do not ask before starting.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def start_command(task_args: TaskArgs, yes: bool, quiet: bool) -> None:
    """Start a stopped (or autostopped) cluster again as a plan change; setup only where needed.

    TASK may also be a cluster's name (`styx stop mycluster`): the task its last version
    applied, read from the stack's backend.
    """
    target = lifecycle_target(task_args, quiet)
    _apply(target, yes, quiet, "Start these nodes?")


def _only_autostop(plan: Plan) -> None:
    """StyxError when the plan changes more than autostop (the task moved on since its apply)."""
    from styx.errors import StyxError
    from styx.plan import Action

    others = [c.field for c in plan.node_changes if c.field not in ("autostop", "agent")]
    # On AWS the instances' spec-hash tag follows the task, autostop included.
    infra = [s.name for s in plan.changes
             if not (s.action is Action.UPDATE
                     and all(c.path.startswith(("tags", "tagsAll")) for c in s.changes))]
    if others or infra:
        raise StyxError(f"the plan of {plan.stack} changes more than autostop "
                        f"({', '.join(others + infra)}): `styx apply` the task first")


@click.command("autostop")
@target_options
@autostop_options
@click.option("--cancel", is_flag=True, help="No autostop: the cluster runs until stopped.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before applying.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def autostop_command(task_args: TaskArgs, idle_minutes: int | None, autostop_down: bool | None,
                     cancel: bool, yes: bool, quiet: bool) -> None:
    """Set (-i N [--down]) or cancel the cluster's autostop: a plan and apply of that change.

    TASK may also be a cluster's name (`styx stop mycluster`): the task its last version
    applied, read from the stack's backend.
    """
    from styx.errors import StyxError

    if cancel and (idle_minutes is not None or autostop_down):
        raise StyxError("give either --cancel or -i/--down, not both")
    override = autostop_override(idle_minutes, autostop_down, cancel)
    if override is None:
        raise StyxError("say what autostop to set: -i MINUTES [--down], or --cancel")
    set_autostop(lifecycle_target(task_args, quiet, autostop=override), yes, quiet)


def set_autostop(target: Target, yes: bool, quiet: bool) -> None:
    """Plan and apply the autostop change of `target` alone (StyxError when it holds more)."""
    _apply(target, yes, quiet, "Apply this autostop?", _only_autostop)
