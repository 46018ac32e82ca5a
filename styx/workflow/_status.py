"""What clusters exist, their nodes, and whether each node answers right now."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from styx.clouds.local import find_leftovers, host_clusters, listen_address
from styx.engine import StackOps, StackRef, list_stacks, open_stack
from styx.errors import StackNotFoundError
from styx.home import styx_home

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
    recorded: bool = True  # False: found on this host, but no stack records it

    @property
    def state(self) -> str:
        if not self.recorded:
            return "orphaned"  # `styx down -s NAME` removes it
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
            )
            for n in outputs.get("nodes") or []
        )
        if not nodes:
            nodes = _host_nodes(listing.name)
        autostop = outputs.get("autostop")
        out.append(
            ClusterStatus(
                cluster=listing.name,
                cloud=str(outputs.get("cloud", "-")),
                nodes=nodes,
                autostop=autostop if isinstance(autostop, dict) else None,
                last_update=listing.last_update,
                update_in_progress=listing.update_in_progress,
                recorded=bool(outputs.get("nodes")) or not nodes,
            )
        )
    # Nodes of a cluster whose stack is gone (its checkpoint deleted) still run here.
    known = {c.cluster for c in out}
    for name in host_clusters(styx_home()):
        if name not in known and (nodes := _host_nodes(name)):
            out.append(ClusterStatus(name, "local", nodes, None, None, False, recorded=False))
    return out


def _host_nodes(cluster: str) -> tuple[NodeStatus, ...]:
    """The nodes of a local cluster as the host holds them (for clusters no stack records)."""
    found = []
    for rank, name in enumerate(find_leftovers(styx_home(), cluster).nodes):
        where = listen_address(styx_home(), cluster, name)
        if where is not None:
            found.append(NodeStatus(name, rank, where[0], where[1], "unrecorded",
                                    _answers(*where)))  # fmt: skip
    return tuple(found)
