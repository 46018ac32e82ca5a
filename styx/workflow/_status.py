"""What clusters exist, their nodes, and whether each node answers right now."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from styx.engine import StackOps, StackRef, list_stacks, open_stack
from styx.errors import StackNotFoundError, StyxError

__all__ = ["ClusterStatus", "NodeStatus", "cluster_status"]


@dataclass(frozen=True)
class NodeStatus:
    name: str
    rank: int
    address: str
    port: int
    recorded_state: str  # as the last apply or refresh saw it
    reachable: bool  # whether its SSH port answers now


@dataclass(frozen=True)
class ClusterStatus:
    cluster: str
    cloud: str
    nodes: tuple[NodeStatus, ...]
    autostop: dict[str, Any] | None
    last_update: datetime | None
    update_in_progress: bool
    # From the head's agent (issue 12); None when it could not be asked.
    jobs_running: int | None = None
    jobs_pending: int | None = None

    @property
    def state(self) -> str:
        if not self.nodes:
            return "down"
        up = sum(1 for n in self.nodes if n.reachable)
        if up == len(self.nodes):
            return "up"
        return "stopped" if up == 0 else "degraded"


def _answers(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1.0):
            return True
    except OSError:
        return False


def _job_counts(outputs: Mapping[str, Any], ref: StackRef) -> tuple[int | None, int | None]:
    """Jobs running and pending, as the head's agent counts them (None, None if it cannot)."""
    from styx.jobs import AgentClient
    from styx.workflow._nodes import cluster_access
    from styx.workflow._target import stack_dir

    try:
        client = AgentClient(cluster_access(outputs, stack_dir(ref), ref.stack))
        activity = client.activity()
    except (StyxError, subprocess.TimeoutExpired):
        return None, None
    return int(activity["jobs_active"]), int(activity["jobs_pending"])


def cluster_status(project: str, backend_url: str | None = None) -> list[ClusterStatus]:
    """Every cluster (stack) of the project in the backend, with a live probe of each node."""
    out: list[ClusterStatus] = []
    for listing in list_stacks(project, backend_url):
        ref = StackRef(project, listing.name, backend_url) if backend_url else StackRef(
            project, listing.name
        )
        try:
            outputs = StackOps(open_stack(ref, create=False)).outputs()
        except StackNotFoundError:
            continue
        nodes = tuple(
            NodeStatus(
                name=str(n["name"]),
                rank=int(n["rank"]),
                address=str(n["address"]),
                port=int(n["port"]),
                recorded_state=str(n.get("state", "unknown")),
                reachable=_answers(str(n["address"]), int(n["port"])),
            )
            for n in outputs.get("nodes") or []
        )
        autostop = outputs.get("autostop")
        running = pending = None
        if nodes and nodes[0].reachable:
            running, pending = _job_counts(outputs, ref)
        out.append(
            ClusterStatus(
                cluster=listing.name,
                cloud=str(outputs.get("cloud", "-")),
                nodes=nodes,
                autostop=autostop if isinstance(autostop, dict) else None,
                last_update=listing.last_update,
                update_in_progress=listing.update_in_progress,
                jobs_running=running,
                jobs_pending=pending,
            )
        )
    return out
