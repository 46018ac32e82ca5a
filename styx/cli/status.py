"""`styx status`: clusters, their nodes, addresses, state, autostop and uptime."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import click

from styx.workflow import PROJECT, ClusterStatus, cluster_status

__all__ = ["status_command"]


def _since(when: datetime | None) -> str:
    if when is None:
        return "-"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = int((datetime.now(UTC) - when).total_seconds())
    hours, rest = divmod(max(seconds, 0), 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _autostop(autostop: dict[str, Any] | None) -> str:
    if not autostop:
        return "-"
    action = "down" if autostop.get("down") else "stop"
    return f"{autostop.get('idle_minutes')}m idle, {action}"


def _jobs(c: ClusterStatus) -> str:
    if c.jobs_running is None:
        return "-"
    return f"{c.jobs_running} run, {c.jobs_pending} wait"


def _table(clusters: list[ClusterStatus]) -> str:
    lines = [
        f"{'CLUSTER':<20} {'CLOUD':<6} {'STATE':<9} {'NODES':<6} {'JOBS':<13} {'AUTOSTOP':<16} "
        "UPTIME"
    ]
    for c in clusters:
        uptime = _since(c.last_update) if c.state in ("up", "degraded") else "-"
        lines.append(
            f"{c.cluster:<20} {c.cloud:<6} {c.state:<9} {len(c.nodes):<6} {_jobs(c):<13} "
            f"{_autostop(c.autostop):<16} {uptime}"
        )
        if c.problem is not None:
            lines.append(f"  cannot read this stack: {c.problem}")
        if c.state_detail is not None:
            lines.append(f"  {c.state.upper()}: {c.state_detail}")
        for n in c.nodes:
            live = "running" if n.reachable else "not answering"
            ports = f"  ports {', '.join(n.ports)} at {n.address}" if n.ports else ""
            lines.append(f"  {n.name:<12} rank {n.rank:<3} {n.address}:{n.port:<6} {live}{ports}")
    return "\n".join(lines)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the clusters as JSON.")
@click.option("--backend", "backend_url", help="State backend URL (default: file://$STYX_HOME/state).")
def status_command(as_json: bool, backend_url: str | None) -> None:
    """Show every cluster, its nodes and whether they answer now."""
    clusters = cluster_status(PROJECT, backend_url)
    if as_json:
        rows = [{**asdict(c), "state": c.state, "state_detail": c.state_detail}
                for c in clusters]
        click.echo(json.dumps(rows, indent=2, default=str))
    elif not clusters:
        click.echo("No clusters. Start one with `styx launch TASK.yaml`.")
    else:
        click.echo(_table(clusters))
