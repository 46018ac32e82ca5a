"""The resource graph: what a cluster is made of, as plain data, before any Pulumi object exists.

Every cloud compiles a spec into a ResourceGraph, and its program declares exactly that
graph. This module is a leaf: it imports nothing of Styx at run time but the tree digest,
so clouds, compile, plan and nodes can all share it without importing each other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from styx.tree import tree_digest

if TYPE_CHECKING:
    from styx.spec import Spec

__all__ = [
    "CatalogChoice",
    "NodeFields",
    "ResourceDecl",
    "ResourceGraph",
    "node_fields",
    "node_name",
    "ref",
]


@dataclass(frozen=True)
class ResourceDecl:
    """One resource: its kind (cloud:Type), a logical name unique in the graph, its arguments.

    Arguments are plain JSON-like values; a value `{"$ref": "name.output"}` means "the output
    `output` of resource `name`", which the program turns into a Pulumi dependency.
    """

    kind: str
    name: str
    args: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "args": dict(self.args)}
        if self.depends_on:
            out["depends_on"] = list(self.depends_on)
        return out


def ref(name: str, output: str) -> dict[str, str]:
    """A reference to another resource's output, resolved when the program runs."""
    return {"$ref": f"{name}.{output}"}


@dataclass(frozen=True)
class NodeFields:
    """What the node step depends on, recorded with each apply so the next plan can diff it.

    Secrets appear only as digests; file contents only as digests, so a changed file under a
    mount or the workdir shows as a change without its content.
    """

    setup: str | None
    run: str | None
    envs: Mapping[str, str]
    secrets: Mapping[str, str]  # name -> sha256 of the value
    file_mounts: Mapping[str, str]  # remote destination -> digest of the local tree
    workdir: str | None  # digest of the workdir tree
    # Buckets on the nodes: remote destination -> "s3://bucket/prefix MODE".
    storage: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "setup": self.setup,
            "run": self.run,
            "envs": dict(sorted(self.envs.items())),
            "secrets": dict(sorted(self.secrets.items())),
            "file_mounts": dict(sorted(self.file_mounts.items())),
            "workdir": self.workdir,
        }
        # Only when set: the digest of a task without buckets stays what its nodes recorded.
        if self.storage:
            out["storage"] = dict(sorted(self.storage.items()))
        return out

    def setup_inputs(self) -> dict[str, Any]:
        """The fields whose change makes setup run again (run is not one of them)."""
        out = self.to_dict()
        del out["run"]
        return out

    def setup_digest(self) -> str:
        """One sha256 of the setup inputs: what the nodes record, and the plan compares."""
        blob = json.dumps(self.setup_inputs(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


class CatalogChoice(Protocol):
    """What a cloud's catalog chose for the spec, and the alternatives it weighed."""

    def to_dict(self) -> dict[str, Any]: ...

    def table(self, num_nodes: int = 1, limit: int | None = 12) -> str: ...


@dataclass(frozen=True)
class ResourceGraph:
    """A cluster for one cloud: its resources, node names by rank, and node-level fields.

    `ports` are the task's open ports (each node's address serves them); `choice` is the
    catalog's answer where the cloud has a priced catalog (None on local).
    """

    cloud: str
    cluster: str
    resources: tuple[ResourceDecl, ...]
    nodes: tuple[str, ...]  # node names by rank: head, worker1, ...
    fields: NodeFields
    spec_hash: str
    hourly_cost: float = 0.0
    warnings: tuple[str, ...] = field(default=())
    autostop: Mapping[str, Any] | None = None
    ports: tuple[str, ...] = ()
    choice: CatalogChoice | None = field(default=None, compare=False)
    # What the cluster costs per hour with every node stopped (its disks), and the nodes' state.
    stopped_hourly_cost: float = 0.0
    node_state: str = "running"

    def with_node_state(self, state: str) -> ResourceGraph:
        """The same cluster with every node in `state` (running | stopped): each declaration
        whose arguments carry a node state gets it, and the cost follows."""
        if state == self.node_state:
            return self
        decls = tuple(
            replace(d, args={**d.args, "state": state}) if "state" in d.args else d
            for d in self.resources
        )
        cost = self.stopped_hourly_cost if state == "stopped" else self.hourly_cost
        return replace(self, resources=decls, node_state=state, hourly_cost=cost)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cloud": self.cloud,
            "cluster": self.cluster,
            "spec_hash": self.spec_hash,
            "hourly_cost": self.hourly_cost,
            "warnings": list(self.warnings),
            "autostop": dict(self.autostop) if self.autostop else None,
            "nodes": list(self.nodes),
            "ports": list(self.ports),
            "node_fields": self.fields.to_dict(),
            "resources": [r.to_dict() for r in self.resources],
        }


def node_name(rank: int) -> str:
    """SkyPilot's naming: the head node, then workers numbered from 1."""
    return "head" if rank == 0 else f"worker{rank}"


def node_fields(spec: Spec) -> NodeFields:
    """The node-level fields of a spec, with secrets and file trees reduced to digests."""
    return NodeFields(
        setup=spec.setup,
        run=spec.run,
        envs=dict(spec.envs),
        secrets={name: secret.digest() for name, secret in spec.secrets.items()},
        file_mounts={dst: tree_digest(Path(src)) for dst, src in spec.file_mounts.items()},
        workdir=tree_digest(spec.workdir) if spec.workdir is not None else None,
        storage={dst: f"{m.url} {m.mode}" for dst, m in spec.storage.items()},
    )
