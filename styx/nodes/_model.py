"""What the nodes layer takes (cluster access, the work to do) and gives back (per-node results)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from styx.errors import NodeError
from styx.spec import StorageMount

__all__ = [
    "ClusterAccess",
    "NodeAccess",
    "NodeSetupResult",
    "NodeWork",
    "PlaybookResult",
    "ProgressEvent",
    "RevealsSecret",
    "SetupStatus",
    "reveal",
]


class RevealsSecret(Protocol):
    """A secret that hides its value until asked (styx.spec.Secret is one)."""

    def reveal(self) -> str: ...


def reveal(value: str | RevealsSecret) -> str:
    """The plain value of a secret given either as text or as a hiding wrapper."""
    return value if isinstance(value, str) else value.reveal()


def _field(value: Mapping[str, Any], key: str, kind: type) -> Any:
    if key not in value:
        raise NodeError(f"stack output for a node lacks {key!r}")
    found = value[key]
    if kind is int and isinstance(found, float) and found.is_integer():
        found = int(found)  # the engine carries every number as a float
    if not isinstance(found, kind):
        raise NodeError(f"stack output {key!r} of a node is {found!r}, not a {kind.__name__}")
    return found


@dataclass(frozen=True)
class NodeAccess:
    """How to reach one node over SSH, with the host key it must present."""

    name: str
    rank: int
    address: str
    port: int
    user: str
    host_public_key: str

    @classmethod
    def from_output(cls, value: Mapping[str, Any]) -> NodeAccess:
        """Read one node from the stack outputs (the dicts the cloud's program exports)."""
        return cls(
            name=_field(value, "name", str),
            rank=_field(value, "rank", int),
            address=_field(value, "address", str),
            port=_field(value, "port", int),
            user=_field(value, "user", str),
            host_public_key=_field(value, "host_public_key", str),
        )


@dataclass(frozen=True)
class ClusterAccess:
    """A cluster as the nodes layer sees it: nodes in rank order, the key, where to keep files.

    `state_dir` is the stack's folder ($STYX_HOME/stacks/<project>/<stack>/): inventories,
    one private data dir per playbook run, and logs go below it. `python` is the interpreter
    Ansible uses on the nodes; None lets Ansible discover it.
    """

    cluster: str
    nodes: tuple[NodeAccess, ...]
    private_key_path: Path
    state_dir: Path
    python: str | None = None
    cloud: str = "local"

    def __post_init__(self) -> None:
        if not self.nodes:
            raise NodeError(f"cluster {self.cluster} has no nodes")
        ranks = [node.rank for node in self.nodes]
        if ranks != list(range(len(self.nodes))):
            raise NodeError(
                f"cluster {self.cluster}: node ranks must be 0..n-1 in order, not {ranks}"
            )

    @classmethod
    def from_outputs(
        cls,
        cluster: str,
        nodes: Sequence[Mapping[str, Any]],
        private_key_path: Path,
        state_dir: Path,
        *,
        python: str | None = None,
        cloud: str = "local",
    ) -> ClusterAccess:
        """Build from the stack's `nodes` output; nodes are sorted by rank."""
        parsed = sorted((NodeAccess.from_output(n) for n in nodes), key=lambda n: n.rank)
        return cls(
            cluster=cluster,
            nodes=tuple(parsed),
            private_key_path=private_key_path,
            state_dir=state_dir,
            python=python,
            cloud=cloud,
        )

    @property
    def head(self) -> NodeAccess:
        return self.nodes[0]

    def node(self, name: str) -> NodeAccess:
        for node in self.nodes:
            if node.name == name:
                return node
        raise NodeError(f"cluster {self.cluster} has no node {name!r}", node=name)


@dataclass(frozen=True)
class NodeWork:
    """What to put on and run on every node of a cluster: a task's node-side half.

    `file_mounts` maps a destination on the node (`~/...` or absolute) to an absolute local
    source file or folder. `workdir`, when set, is synced to `~/sky_workdir`, where setup and
    run then start. Secrets reach setup and run as environment variables but are written to
    no file, log or inventory.
    """

    task_id: str
    envs: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str | RevealsSecret] = field(default_factory=dict)
    file_mounts: Mapping[str, str] = field(default_factory=dict)
    workdir: Path | None = None
    setup: str | None = None
    run: str | None = None
    # Buckets: destination on the node -> the bucket (or prefix) and how it lands there.
    storage: Mapping[str, StorageMount] = field(default_factory=dict)


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a playbook on one node, or one line a node printed.

    status is started | ok | changed | skipped | failed | unreachable for tasks, and "output"
    for a line of setup's output (then `message` is the line).
    """

    node: str | None
    task: str
    status: str
    message: str = ""


SetupStatus = Literal["ran", "unchanged", "failed", "unreachable"]


@dataclass(frozen=True)
class NodeSetupResult:
    """How setup went on one node; `last_lines` are the end of its output when it failed."""

    node: str
    status: SetupStatus
    failed_task: str | None = None
    message: str | None = None
    log_path: Path | None = None
    last_lines: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status in ("ran", "unchanged")


@dataclass(frozen=True)
class PlaybookResult:
    """The outcome of setting a cluster's nodes up."""

    run_id: str
    digest: str
    nodes: tuple[NodeSetupResult, ...]
    private_dir: Path

    @property
    def ok(self) -> bool:
        return all(node.ok for node in self.nodes)

    @property
    def failed(self) -> tuple[NodeSetupResult, ...]:
        return tuple(node for node in self.nodes if not node.ok)

    def raise_for_failure(self) -> None:
        """Raise a NodeError: one line per failing node (its task and cause), then the last
        lines of the first one's setup output."""
        if self.ok:
            return
        lines = []
        for node in self.failed:
            where = f" in task {node.failed_task!r}" if node.failed_task else ""
            lines.append(f"setup failed on {node.node}{where}: {node.message or node.status}")
        first = self.failed[0]
        text = lines[0]
        if first.last_lines:
            text += "\n" + "\n".join(f"  {line}" for line in first.last_lines)
        if lines[1:]:
            text += "\n" + "\n".join(lines[1:])
        raise NodeError(text, node=first.node)
