"""What clusters exist, their nodes, and whether each node answers right now."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from styx.engine import StackOps, StackRef, list_stacks, open_stack
from styx.errors import StackNotFoundError

__all__ = ["ClusterStatus", "NodeStatus", "cluster_status"]


@dataclass(frozen=True)
class NodeStatus:
    name: str
    rank: int
    address: str
    port: int
    recorded_state: str  # as the last apply or refresh saw it
    reachable: bool  # whether its SSH port answers now
    ports: tuple[str, ...] = ()  # the task's ports, open at `address`


@dataclass(frozen=True)
class ClusterStatus:
    cluster: str
    cloud: str
    nodes: tuple[NodeStatus, ...]
    autostop: dict[str, Any] | None
    last_update: datetime | None
    update_in_progress: bool

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
                ports=tuple(str(p) for p in n.get("ports") or ()),
            )
            for n in outputs.get("nodes") or []
        )
        autostop = outputs.get("autostop")
        out.append(
            ClusterStatus(
                cluster=listing.name,
                cloud=str(outputs.get("cloud", "-")),
                nodes=nodes,
                autostop=autostop if isinstance(autostop, dict) else None,
                last_update=listing.last_update,
                update_in_progress=listing.update_in_progress,
            )
        )
    return out
