"""`styx status`: clusters, where and what they are, their state, jobs, autostop and cost."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from styx.workflow import PROJECT, ClusterStatus, cluster_status

__all__ = ["render_status", "status_command"]

_COLUMNS = ("CLUSTER", "INFRA", "RESOURCES", "STATE", "LAUNCHED", "AUTOSTOP", "JOBS", "$/HOUR")


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "-"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = max(int((now - when).total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h ago"
    if hours:
        return f"{hours}h {minutes}m ago"
    if minutes:
        return f"{minutes}m ago"
    return "just now"


def _autostop(autostop: dict[str, Any] | None) -> str:
    if not autostop:
        return "-"
    action = "down" if autostop.get("down") else "stop"
    return f"{autostop.get('idle_minutes')}m idle, {action}"


def _jobs(c: ClusterStatus) -> str:
    if c.jobs_running is None:
        return "-"
    return f"{c.jobs_running} run, {c.jobs_pending} wait"


def _cost(c: ClusterStatus) -> str:
    cost = c.cost_per_hour_now
    return "-" if cost is None else f"${cost:.2f}"


def _infra(c: ClusterStatus) -> str:
    return f"{c.cloud}/{c.region}" if c.region else c.cloud


def _row(c: ClusterStatus, now: datetime) -> tuple[str, ...]:
    return (
        c.cluster,
        _infra(c),
        str(c.resources) if c.resources else (f"{len(c.nodes)}x" if c.nodes else "-"),
        c.state,
        _ago(c.launched_at, now),
        _autostop(c.autostop),
        _jobs(c),
        _cost(c),
    )


def render_status(clusters: Sequence[ClusterStatus], now: datetime | None = None) -> str:
    """The table: one row per cluster, each column as wide as its widest value, and under
    each cluster its nodes (address, whether they answer, setup, ports) and notes."""
    now = now or datetime.now(UTC)
    rows = [_COLUMNS, *(_row(c, now) for c in clusters)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]

    def line(row: tuple[str, ...]) -> str:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        return "  ".join(cells).rstrip()

    out = [line(_COLUMNS)]
    for c, row in zip(clusters, rows[1:], strict=True):
        out.append(line(row))
        if c.problem is not None:
            out.append(f"  cannot read this stack: {c.problem}")
        if c.state_detail is not None:
            out.append(f"  {c.state}: {c.state_detail}")
        name_width = max((len(n.name) for n in c.nodes), default=0)
        for n in c.nodes:
            live = "answers" if n.reachable else "not answering"
            setup = "" if n.setup in ("ok", "unknown") else f"  setup {n.setup}"
            ports = f"  ports {', '.join(n.ports)} at {n.address}" if n.ports else ""
            out.append(f"  {n.name.ljust(name_width)}  rank {n.rank}  {n.address}:{n.port}  "
                       f"{live}{setup}{ports}")  # fmt: skip
        out.extend(f"  note: {note}" for note in c.notes)
    return "\n".join(out)


@click.command("status")
@click.argument("clusters", nargs=-1)
@click.option("-a", "--all", "show_all", is_flag=True,
              help="Also show clusters that are torn down (DOWN).")
@click.option("-r", "--refresh", is_flag=True,
              help="Ask each node whether its setup finished, instead of the recorded outcome.")
@click.option("--json", "as_json", is_flag=True, help="Print the clusters as JSON.")
@click.option("--backend", "backend_urls", multiple=True,
              help="State backend URL to list (repeatable; default: file://$STYX_HOME/state).")
@click.option("--stack-file", "stack_files", multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="List the backend this stack file names (repeatable).")
def status_command(
    clusters: tuple[str, ...], show_all: bool, refresh: bool, as_json: bool,
    backend_urls: tuple[str, ...], stack_files: tuple[Path, ...],
) -> None:  # fmt: skip
    """Show each cluster: where, what, its state, jobs, autostop and cost per hour."""
    found = _clusters(_backends(backend_urls, stack_files), clusters, refresh)
    # A cluster named on the command line shows whatever its state; DOWN ones only on -a.
    shown = [c for c in found if show_all or clusters or c.state != "DOWN"]
    if as_json:
        click.echo(json.dumps([c.to_json() for c in shown], indent=2))
    elif not shown:
        hidden = len(found) - len(shown)
        more = f" ({hidden} torn down: `styx status -a` shows them)" if hidden else ""
        click.echo(f"No clusters{more}. Start one with `styx launch TASK.yaml`.")
    else:
        click.echo(render_status(shown))


def _backends(urls: tuple[str, ...], stack_files: tuple[Path, ...]) -> list[str | None]:
    """Every backend to list, each once: those named, then those the stack files name
    (a stack file without one means the default backend). None alone: the default."""
    from styx.spec import load_stack

    named: list[str | None] = list(urls)
    for path in stack_files:
        named.append(load_stack(path).backend_url)
    return list(dict.fromkeys(named)) or [None]


def _clusters(backends: list[str | None], names: tuple[str, ...],
              refresh: bool) -> list[ClusterStatus]:
    """The clusters of every backend; a name none of them knows is UnknownClusterError."""
    if len(backends) == 1:
        return cluster_status(PROJECT, backends[0], clusters=names, refresh=refresh)
    from styx.errors import UnknownClusterError

    found = [c for url in backends for c in cluster_status(PROJECT, url, refresh=refresh)]
    known = sorted({c.cluster for c in found})
    for name in names:
        if name not in known:
            raise UnknownClusterError(name, known)
    return [c for c in found if not names or c.cluster in names]
