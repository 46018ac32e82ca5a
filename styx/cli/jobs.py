"""`styx queue | logs | cancel`: the jobs on a cluster, as its head-node agent records them."""

from __future__ import annotations

import json
import sys
import time

import click

from styx import _interrupts
from styx.jobs import AgentClient, Job, sync_logs
from styx.workflow import PROJECT, cluster_client, require_cluster

__all__ = ["cancel_command", "logs_command", "queue_command", "show_line"]


def _client(cluster: str, backend_url: str | None) -> AgentClient:
    # A name no stack (or host) knows is one line listing the clusters that exist.
    return cluster_client(require_cluster(cluster, backend_url))


def _ago(when: float | None) -> str:
    if when is None:
        return "-"
    return _span(time.time() - when) + " ago"


def _span(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _duration(job: Job) -> str:
    if job.started_at is None:
        return "-"
    return _span((job.ended_at or time.time()) - job.started_at)


def _table(cluster: str, jobs: list[Job], exit_codes: bool) -> str:
    lines = [
        f"Cluster {cluster}",
        f"{'ID':<5} {'NAME':<16} {'USER':<10} {'SUBMITTED':<12} {'STARTED':<12} "
        f"{'DURATION':<9} {'NODES':<6} {'RESOURCES':<18} STATE",
    ]
    for job in jobs:
        lines.append(
            f"{job.id:<5} {job.name[:16]:<16} {job.user[:10]:<10} {_ago(job.submitted_at):<12} "
            f"{_ago(job.started_at):<12} {_duration(job):<9} {job.num_nodes:<6} "
            f"{str(job.demand)[:18]:<18} {job.state}"
            + (f" ({job.reason})" if job.reason and job.state != "CANCELLED" else "")
        )
        if exit_codes:
            for node in job.nodes:
                code = node.exit_code if node.exit_code is not None else node.error or "-"
                lines.append(f"      {node.node:<12} rank {node.rank:<3} exit {code}")
    return "\n".join(lines)


def _color() -> bool:
    return sys.stdout.isatty()


def show_line(node: str, line: str) -> None:
    """A job's output line, prefixed with its node, as `styx exec` prints it."""
    prefix = f"({node})"
    click.echo(f"{click.style(prefix, fg='cyan') if _color() else prefix} {line}")


@click.command("queue")
@click.argument("clusters", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
@click.option("--exit-codes", is_flag=True, help="Show each job's exit code on every node.")
@click.option(
    "--backend", "backend_url", help="State backend URL (default: file://$STYX_HOME/state)."
)
def queue_command(
    clusters: tuple[str, ...], as_json: bool, exit_codes: bool, backend_url: str | None
) -> None:
    """Show the jobs of each cluster (every cluster when none is named)."""
    if not clusters:
        from styx.engine import list_stacks  # the engine only to list every stack

        clusters = tuple(s.name for s in list_stacks(PROJECT, backend_url))
    names = list(clusters)
    found = {name: _client(name, backend_url).queue() for name in names}
    if as_json:
        data = {name: [job.to_json() for job in jobs] for name, jobs in found.items()}
        click.echo(json.dumps(data, indent=2))
        return
    if not found:
        click.echo("No clusters.")
    click.echo("\n\n".join(_table(name, jobs, exit_codes) for name, jobs in found.items()))


@click.command("logs")
@click.argument("cluster")
@click.argument("job", type=int, required=False)
@click.option(
    "-f",
    "--follow/--no-follow",
    default=True,
    help="Keep following until the job ends (Ctrl-C stops following, not the job).",
)
@click.option("--node", help="Only this node's output.")
@click.option(
    "--sync-down",
    is_flag=True,
    help="Copy the job's logs to the stack's folder (mode 0600) instead of printing.",
)
@click.option(
    "--backend", "backend_url", help="State backend URL (default: file://$STYX_HOME/state)."
)
def logs_command(
    cluster: str, job: int | None, follow: bool, node: str | None, sync_down: bool,
    backend_url: str | None,
) -> None:  # fmt: skip
    """Print a job's output (the latest job when none is named), prefixed per node."""
    client = _client(cluster, backend_url)
    if job is None:
        jobs = client.queue()
        if not jobs:
            raise click.ClickException(f"cluster {cluster} has no jobs")
        job = jobs[-1].id
    if sync_down:
        click.echo(f"Job {job}'s logs are in {sync_logs(client, job)}")
        return
    try:
        for line in client.logs(job, node=node, follow=follow):
            show_line(line.node, line.text)
    except KeyboardInterrupt:
        _interrupts.handled()
        click.echo(f"\nStopped following; job {job} goes on. Cancel it with "
                   f"`styx cancel {cluster} {job}`.", err=True)  # fmt: skip
        return
    if follow:
        ended = client.finished(job)
        click.echo(f"Job {job} {ended.state}.", err=True)


@click.command("cancel")
@click.argument("cluster")
@click.argument("jobs", type=int, nargs=-1)
@click.option("--all", "every", is_flag=True, help="Cancel every job not yet ended.")
@click.option(
    "--backend", "backend_url", help="State backend URL (default: file://$STYX_HOME/state)."
)
def cancel_command(
    cluster: str, jobs: tuple[int, ...], every: bool, backend_url: str | None
) -> None:
    """Cancel jobs: every process of each ends on every node, daemonised ones included."""
    if not jobs and not every:
        raise click.UsageError("name the jobs to cancel, or pass --all")
    done = _client(cluster, backend_url).cancel(list(jobs), every=every)
    if done:
        click.echo(f"Cancelled job(s) {', '.join(str(j) for j in done)} on {cluster}.")
    else:
        click.echo("Nothing to cancel: those jobs had ended already.")
