"""`styx plan | apply | exec | launch | down`: a task's cluster from plan to teardown."""

from __future__ import annotations

from pathlib import Path

import click

from styx.cli._common import TaskArgs, target_options, terminal_reporter, use_color
from styx.engine import StackRef
from styx.errors import StyxError
from styx.jobs import sync_logs
from styx.plan import FORMATS, Format, Plan, render, render_text
from styx.workflow import (
    PROJECT,
    Reporter,
    Target,
    apply_saved_plan,
    apply_target,
    down_stack,
    following_job,
    is_saved_plan,
    plan_target,
    raise_for_job,
    submit_job,
    write_saved_plan,
)

__all__ = ["apply_command", "down_command", "exec_command", "launch_command", "plan_command"]


def _color() -> bool:
    return use_color()


@click.command("plan")
@target_options
@click.option("--refresh", is_flag=True, help="Read the real state first; drift shows apart.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there are no changes, 2 when there are, 1 on error.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for a terminal, markdown for a pull-request comment, json for programs.")
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Save the plan; `styx apply FILE` then applies exactly this plan.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def plan_command(
    task_args: TaskArgs, refresh: bool, detailed_exitcode: bool, fmt: Format,
    out: Path | None, quiet: bool,
) -> None:
    """Show what `styx apply` would change, without changing anything."""
    if task_args.task is not None and is_saved_plan(task_args.task):
        saved = task_args.task
        raise StyxError(f"{saved} is a saved plan, not a task: see it with `styx show {saved}`, "
                        f"apply it with `styx apply {saved}`")
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
@click.option("-y", "--yes", is_flag=True, help="Do not ask before applying.")
@click.option("--refresh/--no-refresh", default=True, show_default=True,
              help="Read the real state first, so drift is repaired.")
@click.option("--accept-host-keys", is_flag=True, help=_ACCEPT_HELP)
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def apply_command(
    task_args: TaskArgs, yes: bool, refresh: bool, accept_host_keys: bool, quiet: bool,
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
    if not _apply(task_args.resolve(), yes, refresh, reporter, accept_host_keys):
        raise click.exceptions.Exit(1)


def _exec(target: Target, reporter: Reporter, detach: bool = False) -> None:
    """Queue the task's run on its cluster's agent; follow it unless detached (issue 12)."""
    cluster = target.cluster
    if detach:
        _client, job_id = submit_job(target)
        click.echo(f"Job {job_id} queued on {cluster}; follow it with "
                   f"`styx logs {cluster} {job_id}`.")  # fmt: skip
        return
    # While this terminal follows the job, apply and down wait for it (or stop, naming it).
    with following_job(target):
        client, job_id = submit_job(target)
        reporter.info(f"job {job_id} queued on {cluster}; following its output ...")
        try:
            for line in client.logs(job_id):
                reporter.output(line.node, line.text)
        except KeyboardInterrupt:
            # Ctrl-C stops following, not the job: say so in the one line every Ctrl-C gets.
            click.echo("Interrupted.", err=True)
            click.echo(f"stopped following; job {job_id} goes on running on {cluster}: "
                       f"re-attach with `styx logs {cluster} {job_id}`, cancel with "
                       f"`styx cancel {cluster} {job_id}`", err=True)  # fmt: skip
            raise click.exceptions.Exit(130) from None
        job = client.job(job_id)
    secrets = [secret.reveal() for secret in target.spec.secrets.values()]
    log_dir = sync_logs(client, job_id, secrets=secrets)
    raise_for_job(client, job)
    click.echo(f"Job {job_id} succeeded on {len(job.nodes)} node(s); logs in {log_dir}",
               err=True)  # fmt: skip


@click.command("exec")
@target_options
@click.option("-d", "--detach", is_flag=True, help="Return once the job is queued; print its id.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines, only the job's output.")
def exec_command(
    task_args: TaskArgs, detach: bool, quiet: bool,
) -> None:
    """Queue the task's `run` on its cluster and follow its output (Ctrl-C stops following)."""
    target = task_args.resolve()
    _exec(target, terminal_reporter(quiet), detach)


@click.command("launch")
@target_options
@click.option("-y", "--yes", is_flag=True, help="Do not ask before applying.")
@click.option("-d", "--detach", is_flag=True, help="Return once the job is queued; print its id.")
@click.option("--accept-host-keys", is_flag=True, help=_ACCEPT_HELP)
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def launch_command(
    task_args: TaskArgs, yes: bool, detach: bool, accept_host_keys: bool, quiet: bool,
) -> None:
    """Apply, then exec: SkyPilot's `sky launch` habit."""
    target = task_args.resolve()
    reporter = terminal_reporter(quiet)
    if not _apply(target, yes, True, reporter, accept_host_keys):
        raise click.exceptions.Exit(1)
    _exec(target, reporter, detach)


@click.command("down")
@target_options
@click.option("-y", "--yes", is_flag=True, help="Do not ask before tearing down.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def down_command(
    task_args: TaskArgs, yes: bool, quiet: bool,
) -> None:
    """Tear the cluster down (the stack and its history stay)."""
    options = task_args.options
    if task_args.task is None and options.stack_file is None and options.stack_name:
        # `styx down -s NAME`: no task needed to tear a cluster down.
        ref = StackRef(PROJECT, options.stack_name)
    else:
        ref = task_args.resolve().ref

    def confirm(nodes: tuple[str, ...]) -> bool:
        click.echo(f"Tearing down {ref.qualified}: {len(nodes)} node(s) {', '.join(nodes)}")
        return yes or click.confirm("Destroy them?", default=False)

    result = down_stack(ref, confirm=confirm, reporter=terminal_reporter(quiet))
    if result.destroyed:
        click.echo(f"{ref.qualified} is down.")
    elif result.nodes:
        click.echo("Nothing changed.")
        raise click.exceptions.Exit(1)
