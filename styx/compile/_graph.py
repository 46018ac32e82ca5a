"""The resource graph: what a cluster is made of, as plain data, before any Pulumi object exists."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from styx.spec import Spec

__all__ = [
    "NodeFields",
    "ResourceDecl",
    "ResourceGraph",
    "node_fields",
    "node_name",
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "setup": self.setup,
            "run": self.run,
            "envs": dict(sorted(self.envs.items())),
            "secrets": dict(sorted(self.secrets.items())),
            "file_mounts": dict(sorted(self.file_mounts.items())),
            "workdir": self.workdir,
        }

    def setup_inputs(self) -> dict[str, Any]:
        """The fields whose change makes setup run again (run is not one of them)."""
        out = self.to_dict()
        del out["run"]
        return out


@dataclass(frozen=True)
class ResourceGraph:
    """A cluster for one cloud: its resources, node names by rank, and node-level fields."""

    cloud: str
    cluster: str
    resources: tuple[ResourceDecl, ...]
    nodes: tuple[str, ...]  # node names by rank: head, worker1, ...
    fields: NodeFields
    spec_hash: str
    hourly_cost: float = 0.0
    warnings: tuple[str, ...] = field(default=())
    autostop: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "cloud": self.cloud,
            "cluster": self.cluster,
            "spec_hash": self.spec_hash,
            "hourly_cost": self.hourly_cost,
            "warnings": list(self.warnings),
            "autostop": dict(self.autostop) if self.autostop else None,
            "nodes": list(self.nodes),
            "node_fields": self.fields.to_dict(),
            "resources": [r.to_dict() for r in self.resources],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"


def node_name(rank: int) -> str:
    """SkyPilot's naming: the head node, then workers numbered from 1."""
    return "head" if rank == 0 else f"worker{rank}"


def tree_digest(path: Path) -> str:
    """sha256 over a file or a folder's relative paths and contents, in a stable order."""
    digest = hashlib.sha256()
    if path.is_file():
        digest.update(path.read_bytes())
        return digest.hexdigest()
    if not path.is_dir():
        return "missing"
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(item.relative_to(path).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(item.read_bytes()).digest())
    return digest.hexdigest()


def node_fields(spec: Spec) -> NodeFields:
    """The node-level fields of a spec, with secrets and file trees reduced to digests."""
    return NodeFields(
        setup=spec.setup,
        run=spec.run,
        envs=dict(spec.envs),
        secrets={name: secret.digest() for name, secret in spec.secrets.items()},
        file_mounts={dst: tree_digest(Path(src)) for dst, src in spec.file_mounts.items()},
        workdir=tree_digest(spec.workdir) if spec.workdir is not None else None,
    )
