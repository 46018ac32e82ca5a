"""What clusters exist, what they are and cost, and whether each node answers right now.

`cluster_status` reads each stack's recorded outputs, history (when the cluster was
launched) and outcome record (whether setup finished), probes each node's SSH port, and asks
the head's agent for its jobs. The shape of `ClusterStatus.to_json()` is `ClusterStatusJSON`
(documented in the README: `styx status --json`).
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

from styx.clouds import HOST_CLOUDS, cloud_named

# The engine's workspace (and Pulumi's SDK) is imported only once a stack is there to read:
# `styx status` of a fresh home starts no engine and loads no SDK (issue 17).
from styx.engine._refs import (
    StackListing,
    StackRef,
    default_backend_url,
    file_backend_is_empty,
    file_backend_stacks,
)
from styx.errors import EngineError, StackNotFoundError, StyxError, UnknownClusterError
from styx.workflow._autostop import read_record
from styx.workflow._target import stack_dir

__all__ = [
    "CLUSTER_STATES",
    "ClusterResources",
    "ClusterState",
    "ClusterStatus",
    "ClusterStatusJSON",
    "NodeStatus",
    "cluster_status",
]

ClusterState = Literal["UP", "INIT", "DEGRADED", "STOPPED", "DOWN", "BROKEN", "ORPHANED"]
CLUSTER_STATES: tuple[ClusterState, ...] = (
    "UP", "INIT", "DEGRADED", "STOPPED", "DOWN", "BROKEN", "ORPHANED"
)  # fmt: skip
# States in which the cluster's machines run, and so cost their hourly price.
_RUNNING_STATES = frozenset({"UP", "INIT", "DEGRADED"})


@dataclass(frozen=True)
class NodeStatus:
    name: str
    rank: int
    address: str
    port: int
    recorded_state: str  # as the last apply or refresh saw it
    reachable: bool  # whether its SSH port answers now
    ports: tuple[str, ...] = ()  # the task's ports, open at `address`
    # The node's last setup as the outcome record says: ok | started | failed |
    # interrupted | never | unknown (no record to read); with --refresh, as the node says.
    setup: str = "unknown"


@dataclass(frozen=True)
class ClusterResources:
    """What each node of the cluster is: an instance type, or cpus/memory/accelerators."""

    num_nodes: int
    instance_type: str | None = None
    cpus: float | None = None
    memory_gb: float | None = None
    accelerators: str | None = None
    use_spot: bool = False

    def __str__(self) -> str:
        if self.instance_type:
            what = self.instance_type + (f" ({self.accelerators})" if self.accelerators else "")
        else:
            parts = [f"cpus={self.cpus:g}" if self.cpus is not None else "",
                     f"mem={self.memory_gb:g}G" if self.memory_gb is not None else "",
                     self.accelerators or ""]  # fmt: skip
            what = "(" + (", ".join(p for p in parts if p) or "host's") + ")"
        return f"{self.num_nodes}x {what}" + (" [spot]" if self.use_spot else "")

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any], num_nodes: int) -> ClusterResources:
        raw = outputs.get("node_resources")
        raw = raw if isinstance(raw, Mapping) else {}

        def number(key: str) -> float | None:
            value = raw.get(key)
            return float(value) if isinstance(value, int | float) else None

        return cls(
            num_nodes=num_nodes,
            instance_type=str(raw["instance_type"]) if raw.get("instance_type") else None,
            cpus=number("cpus"),
            memory_gb=number("memory_gb"),
            accelerators=str(raw["accelerators"]) if raw.get("accelerators") else None,
            use_spot=bool(raw.get("use_spot")),
        )


class NodeStatusJSON(TypedDict):
    name: str
    rank: int
    address: str
    port: int
    reachable: bool
    setup: str
    ports: list[str]


class ClusterStatusJSON(TypedDict):
    """One element of `styx status --json` (times ISO 8601 in UTC, or null)."""

    cluster: str
    cloud: str
    region: str | None
    state: ClusterState
    resources: str | None  # as the table shows it, e.g. "2x m6i.large"
    num_nodes: int
    instance_type: str | None
    cpus: float | None
    memory_gb: float | None
    accelerators: str | None
    launched_at: str | None
    last_update: str | None
    autostop: dict[str, Any] | None
    jobs_running: int | None
    jobs_pending: int | None
    hourly_cost: float | None  # what it costs per hour while its machines run
    cost_per_hour_now: float | None  # what it costs per hour in its current state
    state_detail: str | None
    problem: str | None
    nodes: list[NodeStatusJSON]


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
    region: str | None = None
    resources: ClusterResources | None = None
    launched_at: datetime | None = None  # the first apply of the cluster's current life
    hourly_cost: float | None = None  # the recorded price per hour while it runs
    notes: tuple[str, ...] = field(default=())
    # What the last autostop recorded (at, idle_minutes, action, description), while the
    # cluster has not run since; None otherwise.
    autostopped: dict[str, Any] | None = None

    @property
    def state(self) -> ClusterState:
        """UP; INIT while (or when) setup did not finish on a node; DEGRADED when some node
        does not answer; STOPPED when none does; DOWN when torn down."""
        if self.problem is not None:
            return "BROKEN"
        if not self.recorded:
            return "ORPHANED"  # `styx down NAME` removes it
        if not self.nodes:
            return "DOWN"
        up = sum(1 for n in self.nodes if n.reachable)
        if up == 0:
            if self.autostopped is not None and self.autostopped["action"] == "down":
                return "DOWN"  # autodown: the nodes are gone, the rest of the stack is not
            return "STOPPED"
        if up < len(self.nodes):
            return "DEGRADED"
        if any(n.setup not in ("ok", "unknown") for n in self.nodes):
            return "INIT"
        return "UP"

    @property
    def state_detail(self) -> str | None:
        """Why the cluster is in its state, when Styx knows: "autostopped at T after N idle min"."""
        if self.autostopped is not None and self.state in ("STOPPED", "DOWN"):
            return str(self.autostopped["description"])
        if self.state == "STOPPED" and all(n.recorded_state == "stopped" for n in self.nodes):
            return "stopped by `styx stop`"
        return None

    @property
    def cost_per_hour_now(self) -> float | None:
        """The hourly price in the current state: nothing once down, unknown when stopped
        (what stopped disks cost is the cloud's to say)."""
        if self.state == "DOWN":
            return 0.0
        return self.hourly_cost if self.state in _RUNNING_STATES else None

    def to_json(self) -> ClusterStatusJSON:
        resources = self.resources
        return {
            "cluster": self.cluster,
            "cloud": self.cloud,
            "region": self.region,
            "state": self.state,
            "resources": str(resources) if resources else None,
            "num_nodes": len(self.nodes),
            "instance_type": resources.instance_type if resources else None,
            "cpus": resources.cpus if resources else None,
            "memory_gb": resources.memory_gb if resources else None,
            "accelerators": resources.accelerators if resources else None,
            "launched_at": _iso(self.launched_at),
            "last_update": _iso(self.last_update),
            "autostop": self.autostop,
            "jobs_running": self.jobs_running,
            "jobs_pending": self.jobs_pending,
            "hourly_cost": self.hourly_cost,
            "cost_per_hour_now": self.cost_per_hour_now,
            "state_detail": self.state_detail,
            "problem": self.problem,
            "nodes": [_node_json(n) for n in self.nodes],
        }


def _node_json(n: NodeStatus) -> NodeStatusJSON:
    return {"name": n.name, "rank": n.rank, "address": n.address, "port": n.port,
            "reachable": n.reachable, "setup": n.setup, "ports": list(n.ports)}  # fmt: skip


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


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


def _listings(project: str, backend_url: str | None) -> list[StackListing]:
    url = backend_url or default_backend_url()
    if file_backend_is_empty(project, url):
        return []
    from styx.engine import list_stacks

    try:
        return list_stacks(project, backend_url)
    except EngineError:
        # One unreadable checkpoint fails the engine's whole listing; a file backend's
        # folder still names every stack, and each is then read on its own.
        names = file_backend_stacks(project, url)
        if names is None:
            raise
        return [StackListing(name, None, None, False) for name in names]


def cluster_status(
    project: str,
    backend_url: str | None = None,
    *,
    clusters: Sequence[str] = (),
    refresh: bool = False,
) -> list[ClusterStatus]:
    """Every cluster (stack) of the project in the backend, or only `clusters`, each node
    probed live; UnknownClusterError for a name neither the backend nor this host knows.

    A stack that cannot be read is one BROKEN row with the reason; the others show as usual.
    With `refresh`, each node's own setup record (read over SSH) says whether setup finished,
    as `styx plan --refresh` reads it; otherwise the backend's outcome record does.
    """
    listings = _listings(project, backend_url)
    on_host = {
        name: cloud_name
        for cloud_name in HOST_CLOUDS
        for name in cloud_named(cloud_name).host_clusters()
    }
    if clusters:
        known = {listing.name for listing in listings} | set(on_host)
        for name in clusters:
            if name not in known:
                raise UnknownClusterError(name, sorted(known))
        wanted = set(clusters)
        listings = [listing for listing in listings if listing.name in wanted]
        on_host = {name: cloud for name, cloud in on_host.items() if name in wanted}

    def one(listing: StackListing) -> ClusterStatus | None:
        ref = StackRef(project, listing.name, backend_url or default_backend_url())
        return _stack_status(listing, ref, refresh)

    with ThreadPoolExecutor(max_workers=min(8, max(len(listings), 1))) as pool:
        out = [c for c in pool.map(one, listings) if c is not None]
    # Nodes of a cluster whose stack is gone (its checkpoint deleted) still run here.
    found = {c.cluster for c in out}
    for name, cloud_name in on_host.items():
        if name not in found and (nodes := _host_nodes(name)):
            out.append(ClusterStatus(name, cloud_name, nodes, None, None, False,
                                     recorded=False))  # fmt: skip
    return out


def _stack_status(listing: StackListing, ref: StackRef, refresh: bool) -> ClusterStatus | None:
    try:
        from styx.engine import StackOps, open_stack

        ops = StackOps(open_stack(ref, create=False))
        # The history is another engine process: read it beside the outputs.
        with ThreadPoolExecutor(max_workers=1) as pool:
            launched = pool.submit(ops.launched_at)
            outputs = ops.outputs()
            launched_at = launched.result()
    except StackNotFoundError:
        return None
    except EngineError as err:
        return ClusterStatus(listing.name, "-", (), None, listing.last_update,
                             listing.update_in_progress,
                             problem=str(err).strip().splitlines()[0])  # fmt: skip
    return _cluster(listing, outputs, ref, launched_at, refresh)


def _setup_states(
    outputs: Mapping[str, Any], ref: StackRef, refresh: bool, names: Sequence[str]
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Per node, how its last setup ended; and notes on what could not be read."""
    from styx.workflow._outcomes import read_outcomes

    try:
        record = read_outcomes(ref)
    except StyxError as err:
        return {}, (f"setup outcomes unreadable: {err}",)
    states = {n: "never" for n in names} if record is not None else {}
    if record is not None:
        for name, outcome in record.nodes.items():
            states[name] = outcome.status
    if not refresh:
        return states, ()
    from styx.nodes import read_node_records
    from styx.workflow._nodes import cluster_access
    from styx.workflow._target import stack_dir

    notes = []
    own = read_node_records(cluster_access(outputs, stack_dir(ref), ref.stack))
    for name, node in own.items():
        if node.status == "unreachable":
            notes.append(f"{name}: setup record unreadable ({node.message})")
        else:
            states[name] = {"running": "started", "none": "never"}.get(node.status, node.status)
    return states, tuple(notes)


def _cluster(
    listing: StackListing,
    outputs: Mapping[str, Any],
    ref: StackRef,
    launched_at: datetime | None,
    refresh: bool,
) -> ClusterStatus:
    raw_nodes = [n for n in outputs.get("nodes") or [] if isinstance(n, Mapping)]
    recorded = bool(raw_nodes)
    setup: dict[str, str] = {}
    notes: tuple[str, ...] = ()
    if recorded:
        setup, notes = _setup_states(outputs, ref, refresh, [str(n["name"]) for n in raw_nodes])
    nodes = tuple(
        NodeStatus(
            name=str(n["name"]),
            rank=int(n["rank"]),
            address=str(n["address"]),
            port=int(n["port"]),
            recorded_state=str(n.get("state", "unknown")),
            reachable=_answers(str(n["address"]), int(n["port"])),
            ports=tuple(str(p) for p in n.get("ports") or ()),
            setup=setup.get(str(n["name"]), "unknown"),
        )
        for n in raw_nodes
    )
    if not nodes:
        nodes = _host_nodes(listing.name)
    running = pending = None
    if recorded and nodes and nodes[0].reachable:
        running, pending = _job_counts(outputs, ref)
    autostop = outputs.get("autostop")
    cost = outputs.get("hourly_cost")
    region = outputs.get("region")
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
        region=str(region) if region else None,
        resources=ClusterResources.from_outputs(outputs, len(nodes)) if recorded else None,
        launched_at=launched_at if recorded else None,
        hourly_cost=float(cost) if isinstance(cost, int | float) and recorded else None,
        notes=notes,
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
