"""`styx plan | apply | exec | launch | down`: a task's cluster from plan to teardown."""

from __future__ import annotations

from pathlib import Path

import click

from styx.cli._common import (
    TaskArgs,
    target_options,
    terminal_reporter,
    use_color,
)
from styx.cli.lifecycle import autostop_options, autostop_override, with_options
from styx.engine import StackRef
from styx.errors import StyxError
from styx.plan import FORMATS, Format, Plan, render, render_text
from styx.workflow import (
    PROJECT,
    Reporter,
    Target,
    apply_saved_plan,
    apply_target,
    choose_task_or_cluster,
    down_stack,
    is_saved_plan,
    plan_target,
    require_cluster,
    write_saved_plan,
)

__all__ = ["apply_command", "down_command", "launch_command", "plan_command"]


def _color() -> bool:
    return use_color()


@click.command("plan")
@target_options
@autostop_options
@click.option("--refresh", is_flag=True, help="Read the real state first; drift shows apart.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there are no changes, 2 when there are, 1 on error.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for a terminal, markdown for a pull-request comment, json for programs.")
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Save the plan; `styx apply FILE` then applies exactly this plan.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def plan_command(
    task_args: TaskArgs, idle_minutes: int | None, autostop_down: bool | None, refresh: bool,
    detailed_exitcode: bool, fmt: Format, out: Path | None, quiet: bool,
) -> None:
    """Show what `styx apply` would change, without changing anything."""
    if task_args.task is not None and is_saved_plan(task_args.task):
        saved = task_args.task
        raise StyxError(f"{saved} is a saved plan, not a task: see it with `styx show {saved}`, "
                        f"apply it with `styx apply {saved}`")
    override = autostop_override(idle_minutes, autostop_down)
    if override is not None and out is not None:
        # A saved plan records the task and its options, not these flags: its apply would
        # refuse the plan as out of date.
        raise StyxError("-i/--down are not saved with a plan: write autostop in the task")
    task_args = with_options(task_args, autostop=override)
    target = task_args.resolve()
    planned = plan_target(target, refresh=refresh, reporter=terminal_reporter(quiet))
    click.echo(render(planned.plan, fmt, color=_color()), nl=False)
    if out is not None:
        write_saved_plan(out, planned, task_args.task, task_args.options)
        if not quiet:
            click.echo(f"Saved the plan to {out}; apply it with `styx apply {out}`.", err=True)
    if detailed_exitcode and (planned.plan.has_changes or planned.plan.drift):
        raise click.exceptions.Exit(2)


def _apply(target: Target, yes: bool, refresh: bool, reporter: Reporter,
           accept_host_keys: bool = False) -> bool:  # fmt: skip
    """Plan, show, confirm, apply; False when the user declined."""
    declined = False

    def confirm(plan: Plan) -> bool:
        nonlocal declined
        click.echo(render_text(plan, color=_color()), nl=False)
        declined = not (yes or click.confirm("\nApply these changes?", default=False))
        return not declined

    result = apply_target(target, confirm=confirm, refresh=refresh or accept_host_keys,
                          reporter=reporter, accept_host_keys=accept_host_keys)  # fmt: skip
    if declined:
        click.echo("Nothing changed.")
        return False
    if not result.applied:
        click.echo(render_text(result.plan, color=_color()), nl=False)
        return True
    click.echo(f"\nApplied {target.ref.qualified} (version {result.stack_version}): "
               f"{len(result.nodes)} node(s) up; setup ran on {len(result.setup_ran)}.")
    return True


_ACCEPT_HELP = ("Trust the host keys the cloud reports now for nodes whose key changed "
                "(replaced on purpose); without it such nodes are refused.")


@click.command("apply")
@target_options
@autostop_options
@click.option("-y", "--yes", is_flag=True, help="Do not ask before applying.")
@click.option("--refresh/--no-refresh", default=True, show_default=True,
              help="Read the real state first, so drift is repaired.")
@click.option("--accept-host-keys", is_flag=True, help=_ACCEPT_HELP)
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def apply_command(
    task_args: TaskArgs, idle_minutes: int | None, autostop_down: bool | None, yes: bool,
    refresh: bool, accept_host_keys: bool, quiet: bool,
) -> None:
    """Show the plan, ask, provision the cluster, then set its nodes up.

    TASK may also be a plan saved by `styx plan -o FILE`: then exactly that plan is applied,
    or refused when the task or the stack moved on since.
    """
    reporter = terminal_reporter(quiet)
    if task_args.task is not None and is_saved_plan(task_args.task):
        result = apply_saved_plan(task_args.task, reporter=reporter)
        click.echo(f"Applied the saved plan to {result.plan.project}/{result.plan.stack} "
                   f"(version {result.stack_version}): {len(result.nodes)} node(s) up; "
                   f"setup ran on {len(result.setup_ran)}.")
        return
    task_args = with_options(task_args, autostop=autostop_override(idle_minutes, autostop_down))
    if not _apply(task_args.resolve(), yes, refresh, reporter, accept_host_keys):
        raise click.exceptions.Exit(1)


@click.command("launch")
@target_options
@autostop_options
@click.option("-y", "--yes", is_flag=True, help="Do not ask before applying.")
@click.option("-d", "--detach", is_flag=True, help="Return once the job is queued; print its id.")
@click.option("--accept-host-keys", is_flag=True, help=_ACCEPT_HELP)
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def launch_command(
    task_args: TaskArgs, idle_minutes: int | None, autostop_down: bool | None, yes: bool,
    detach: bool, accept_host_keys: bool, quiet: bool,
) -> None:
    """Apply, then exec: SkyPilot's `sky launch` habit."""
    task_args = with_options(task_args, autostop=autostop_override(idle_minutes, autostop_down))
    target = task_args.resolve()
    reporter = terminal_reporter(quiet)
    if not _apply(target, yes, True, reporter, accept_host_keys):
        raise click.exceptions.Exit(1)
    from styx.cli.exec import exec_target

    exec_target(target, reporter, detach)


@click.command("down")
@target_options
@click.option("-y", "--yes", is_flag=True, help="Do not ask before tearing down.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def down_command(
    task_args: TaskArgs, yes: bool, quiet: bool,
) -> None:
    """Tear a cluster down, by name or by task (the stack and its history stay).

    \b
      styx down mycluster        the cluster of that name (also: -c mycluster)
      styx down task.yaml        the task's cluster
    """
    options = task_args.options
    reporter = terminal_reporter(quiet)
    if task_args.task is None and options.stack_file is None and options.stack_name:
        # `styx down -c NAME`: no task needed to tear a cluster down.
        ref = require_cluster(options.stack_name)
    elif task_args.task is not None and options.stack_file is None and not options.stack_name:
        # `styx down WORD`: a task file or a cluster, as SkyPilot reads a word.
        choice = choose_task_or_cluster(str(task_args.task))
        if choice.note:
            reporter.info(choice.note)
        ref = (StackRef(PROJECT, choice.word) if choice.kind == "cluster"
               else task_args.resolve().ref)  # fmt: skip
    else:
        ref = task_args.resolve().ref

    def confirm(nodes: tuple[str, ...]) -> bool:
        click.echo(f"Tearing down {ref.qualified}: {len(nodes)} node(s) {', '.join(nodes)}")
        return yes or click.confirm("Destroy them?", default=False)

    result = down_stack(ref, confirm=confirm, reporter=reporter)
    if result.destroyed:
        click.echo(f"{ref.qualified} is down.")
    elif result.nodes:
        click.echo("Nothing changed.")
        raise click.exceptions.Exit(1)
