"""`styx exec`: queue a task's run or a command on a cluster's agent and follow its output.

Its own module, apart from plan/apply: exec is the command users repeat while they iterate, so
it imports neither the plan's diff machinery nor ansible nor (on a file backend) the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import click

from styx import _interrupts
from styx.cli._common import TaskArgs, target_options_without_task, terminal_reporter
from styx.cli.lifecycle import autostop_options, autostop_override, with_options
from styx.engine import StackRef
from styx.errors import StyxError
from styx.jobs import AgentClient, Demand, sync_logs
from styx.spec import parse_accelerators, parse_cpus
from styx.workflow import (
    AutostopOverride,
    CommandJob,
    Reporter,
    Target,
    choose_task_or_cluster,
    following_job,
    raise_for_job,
    require_cluster,
    submit_command,
    submit_job,
)

__all__ = ["exec_command", "exec_target"]


def _follow(
    ref: StackRef, submit: Callable[[], tuple[AgentClient, int]], reporter: Reporter,
    detach: bool, secrets: list[str],
) -> None:  # fmt: skip
    """Queue a job with `submit`; follow its output unless detached (issue 12)."""
    cluster = ref.stack
    if detach:
        _client, job_id = submit()
        click.echo(f"Job {job_id} queued on {cluster}; follow it with "
                   f"`styx logs {cluster} {job_id}`.")  # fmt: skip
        return
    # While this terminal follows the job, apply and down wait for it (or stop, naming it).
    with following_job(ref):
        client, job_id = submit()
        reporter.info(f"job {job_id} queued on {cluster}; following its output ...")
        try:
            for line in client.logs(job_id):
                reporter.output(line.node, line.text)
        except KeyboardInterrupt:
            # Ctrl-C stops following, not the job: say so in the one line every Ctrl-C gets.
            _interrupts.handled()
            click.echo("Interrupted.", err=True)
            click.echo(f"stopped following; job {job_id} goes on running on {cluster}: "
                       f"re-attach with `styx logs {cluster} {job_id}`, cancel with "
                       f"`styx cancel {cluster} {job_id}`", err=True)  # fmt: skip
            raise click.exceptions.Exit(130) from None
        job = client.finished(job_id)
    log_dir = sync_logs(client, job_id, secrets=secrets)
    raise_for_job(client, job)
    click.echo(f"Job {job_id} succeeded on {len(job.nodes)} node(s); logs in {log_dir}",
               err=True)  # fmt: skip


def exec_target(target: Target, reporter: Reporter, detach: bool = False) -> None:
    """Queue the task's run on its cluster's agent (its workdir synced first); follow it."""
    secrets = [secret.reveal() for secret in target.spec.secrets.values()]
    _follow(target.ref, lambda: submit_job(target, reporter=reporter), reporter, detach,
            secrets)  # fmt: skip


def _exec_task(task_args: TaskArgs, override: AutostopOverride | None, reporter: Reporter,
               detach: bool, quiet: bool) -> None:
    """The task's run on its cluster; -i/--down first plan and apply that autostop alone."""
    if override is not None:
        from styx.cli.lifecycle import set_autostop

        set_autostop(with_options(task_args, autostop=override).resolve(), True, quiet)
    exec_target(task_args.resolve(), reporter, detach)


def _command_job(command: str, task_args: TaskArgs) -> CommandJob:
    """An inline command with the flags that mean something for it; the others refused."""
    options = task_args.options
    overrides = options.overrides
    if options.env_file is not None or options.variables:
        raise StyxError("--env-file and --var belong to a task file, not to a command")
    demand = Demand()
    if overrides is not None:
        refused = [flag for flag, value in (
            ("--cloud", overrides.cloud), ("--infra", overrides.infra),
            ("--memory", overrides.memory), ("--instance-type", overrides.instance_type),
            ("--use-spot", overrides.use_spot),
        ) if value is not None]  # fmt: skip
        if refused:
            raise StyxError(f"{', '.join(refused)}: these choose machines, and a command runs "
                            "on the cluster's own; give them to `styx apply` or `styx launch`")
        try:
            cpus = parse_cpus(overrides.cpus).value if overrides.cpus else None
            gpus = parse_accelerators(overrides.gpus)[0] if overrides.gpus else ()
        except ValueError as err:
            raise StyxError(f"--cpus/--gpus: {err}") from err
        accelerators = {a.name: float(a.count) for a in gpus[:1]}
        demand = Demand(cpus, accelerators)
    return CommandJob(
        command=command,
        num_nodes=(overrides.num_nodes if overrides and overrides.num_nodes else 1),
        envs=dict(options.env_overrides),
        secrets=dict(options.secret_overrides),
        demand=demand,
    )


def _exec_words(words: tuple[str, ...], task_args: TaskArgs) -> tuple[str, str | None, str | None]:
    """(cluster or "", task file or None, command or None) from `styx exec`'s words.

    SkyPilot's `sky exec CLUSTER ENTRYPOINT`: the entrypoint is a task when it is a file, else
    a command (its words joined). One word alone is a task file. -c NAME names the cluster
    as the first word would.
    """
    named = task_args.options.stack_name
    if not words:
        return named or "", None, None
    if len(words) == 1 and named is None:
        return "", words[0], None
    cluster, rest = (named, words) if named is not None else (words[0], words[1:])
    if len(rest) == 1 and Path(rest[0]).is_file():
        return cluster, rest[0], None
    if len(rest) == 1 and rest[0].endswith((".yaml", ".yml")):
        raise StyxError(f"task file {rest[0]} does not exist")
    return cluster, None, " ".join(rest)


@click.command("exec")
@click.argument("words", nargs=-1, metavar="[CLUSTER] TASK|COMMAND")
@target_options_without_task
@autostop_options
@click.option("-d", "--detach", is_flag=True, help="Return once the job is queued; print its id.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines, only the job's output.")
def exec_command(
    words: tuple[str, ...], task_args: TaskArgs, idle_minutes: int | None,
    autostop_down: bool | None, detach: bool, quiet: bool,
) -> None:
    """Queue a task's `run` or a command on a cluster and follow its output (Ctrl-C
    stops following).

    \b
      styx exec task.yaml              the task's run on its own cluster (workdir synced)
      styx exec mycluster task.yaml    the task's run on mycluster
      styx exec mycluster 'echo hi'    a command on mycluster's head (--num-nodes N: N nodes)
    """
    reporter = terminal_reporter(quiet)
    override = autostop_override(idle_minutes, autostop_down)
    cluster, task, command = _exec_words(words, task_args)
    if task is None and command is None:
        if task_args.options.stack_file is not None:
            _exec_task(TaskArgs(None, task_args.options), override, reporter, detach, quiet)
            return
        where = f" to run on {cluster}" if cluster else ""
        raise StyxError(f"name a task file or a command{where}: `styx exec [CLUSTER] "
                        "TASK.yaml` or `styx exec CLUSTER 'COMMAND'`")  # fmt: skip
    if not cluster:
        # `styx exec WORD`: a task file, or a cluster named without anything to run.
        assert task is not None
        choice = choose_task_or_cluster(task)
        if choice.note:
            reporter.info(choice.note)
        if choice.kind == "cluster":
            raise StyxError(f"{task} is a cluster: name what to run on it, "
                            f"`styx exec {task} TASK.yaml` or `styx exec {task} 'COMMAND'`")
        _exec_task(TaskArgs(Path(task), task_args.options), override, reporter, detach, quiet)
        return
    ref = require_cluster(cluster)
    if task is not None:
        options = replace(task_args.options, stack_name=cluster)
        reporter.info(f"running task {task} on cluster {cluster}")
        _exec_task(TaskArgs(Path(task), options), override, reporter, detach, quiet)
        return
    assert command is not None
    if override is not None:
        raise StyxError(f"-i/--down change the cluster's autostop, which a command does not "
                        f"carry: run `styx autostop {cluster} -i N` (or give the task file)")
    job = _command_job(command, task_args)
    reporter.info(f"running a command on cluster {cluster} "
                  f"({job.num_nodes} node{'s' if job.num_nodes != 1 else ''})")
    _follow(ref, lambda: submit_command(ref, job), reporter, detach,
            list(job.secrets.values()))
