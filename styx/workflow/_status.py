"""What clusters exist, their nodes, and whether each node answers right now."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from styx.clouds import HOST_CLOUDS, cloud_named
from styx.engine import (
    StackListing,
    StackOps,
    StackRef,
    default_backend_url,
    file_backend_stacks,
    list_stacks,
    open_stack,
)
from styx.errors import EngineError, StackNotFoundError, StyxError
from styx.workflow._autostop import read_record
from styx.workflow._target import stack_dir

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
    # Why the stack cannot be read (a corrupt checkpoint, say); the others still show.
    problem: str | None = None
    recorded: bool = True  # False: found on this host, but no stack records it
    # From the head's agent (issue 12); None when it could not be asked.
    jobs_running: int | None = None
    jobs_pending: int | None = None
    # What the last autostop recorded (at, idle_minutes, action, description), while the
    # cluster has not run since; None otherwise.
    autostopped: dict[str, Any] | None = None

    @property
    def state(self) -> str:
        if self.problem is not None:
            return "broken"
        if not self.recorded:
            return "orphaned"  # `styx down -s NAME` removes it
        if not self.nodes:
            return "down"
        up = sum(1 for n in self.nodes if n.reachable)
        if up == len(self.nodes):
            return "up"
        if up == 0 and self.autostopped is not None and self.autostopped["action"] == "down":
            return "down"  # autodown: the nodes are gone, the rest of the stack is not
        return "stopped" if up == 0 else "degraded"

    @property
    def state_detail(self) -> str | None:
        """Why the cluster is in its state, when Styx knows: "autostopped at T after N idle min"."""
        if self.autostopped is not None and self.state in ("stopped", "down"):
            return str(self.autostopped["description"])
        if self.state == "stopped" and all(n.recorded_state == "stopped" for n in self.nodes):
            return "stopped by `styx stop`"
        return None


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

    try:
        client = AgentClient(cluster_access(outputs, stack_dir(ref), ref.stack))
        activity = client.activity()
    except (StyxError, subprocess.TimeoutExpired):
        return None, None
    return int(activity["jobs_active"]), int(activity["jobs_pending"])


def cluster_status(project: str, backend_url: str | None = None) -> list[ClusterStatus]:
    """Every cluster (stack) of the project in the backend, with a live probe of each node.

    A stack that cannot be read is one `broken` row with the reason; the others show as usual.
    """
    url = backend_url or default_backend_url()
    try:
        listings = list_stacks(project, backend_url)
    except EngineError:
        # One unreadable checkpoint fails the engine's whole listing; a file backend's
        # folder still names every stack, and each is then read on its own.
        names = file_backend_stacks(project, url)
        if names is None:
            raise
        listings = [StackListing(name, None, None, False) for name in names]
    out: list[ClusterStatus] = []
    for listing in listings:
        ref = StackRef(project, listing.name, backend_url) if backend_url else StackRef(
            project, listing.name
        )
        try:
            outputs = StackOps(open_stack(ref, create=False)).outputs()
        except StackNotFoundError:
            continue
        except EngineError as err:
            out.append(ClusterStatus(listing.name, "-", (), None, listing.last_update,
                                     listing.update_in_progress,
                                     problem=str(err).strip().splitlines()[0]))
            continue
        out.append(_cluster(listing, outputs, ref))
    # Nodes of a cluster whose stack is gone (its checkpoint deleted) still run here.
    known = {c.cluster for c in out}
    for cloud_name in HOST_CLOUDS:
        for name in cloud_named(cloud_name).host_clusters():
            if name not in known and (nodes := _host_nodes(name)):
                out.append(ClusterStatus(name, cloud_name, nodes, None, None, False,
                                         recorded=False))
    return out


def _cluster(listing: StackListing, outputs: dict[str, Any], ref: StackRef) -> ClusterStatus:
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
    recorded = bool(outputs.get("nodes"))
    if not nodes:
        nodes = _host_nodes(listing.name)
    running = pending = None
    if recorded and nodes and nodes[0].reachable:
        running, pending = _job_counts(outputs, ref)
    autostop = outputs.get("autostop")
    record = read_record(stack_dir(ref)) if recorded else None
    return ClusterStatus(
        cluster=listing.name,
        cloud=str(outputs.get("cloud", "-")),
        nodes=nodes,
        autostop=autostop if isinstance(autostop, dict) else None,
        last_update=listing.last_update,
        update_in_progress=listing.update_in_progress,
        recorded=recorded or not nodes,
        jobs_running=running,
        jobs_pending=pending,
        autostopped=record.to_dict() if record is not None else None,
    )


def _host_nodes(cluster: str) -> tuple[NodeStatus, ...]:
    """The nodes of a local cluster as the host holds them (for clusters no stack records)."""
    found = []
    for cloud in (cloud_named(name) for name in HOST_CLOUDS):
        for rank, name in enumerate(cloud.host_leftovers(cluster).nodes):
            where = cloud.host_node_address(cluster, name)
            if where is not None:
                found.append(NodeStatus(name, rank, where[0], where[1], "unrecorded",
                                        _answers(*where)))  # fmt: skip
    return tuple(found)
