"""The Plan: what an apply would change, as data — infrastructure steps, node work, cost, drift."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

__all__ = [
    "FORMAT_VERSION",
    "SECRET",
    "Action",
    "DiffKind",
    "NodeChange",
    "Plan",
    "PropertyChange",
    "Step",
    "natural_key",
]

# What every renderer, log and plan file shows in place of a secret value.
SECRET = "[secret]"

# The version of Plan.to_dict's format (schemas/plan.schema.json); readers refuse others.
FORMAT_VERSION = 1


# Node changes list in this order (a stable sort keeps the order within one field).
_NODE_FIELDS = ("nodes", "setup", "envs", "secrets", "file_mounts", "storage", "workdir",
                "run")
_DIGITS = re.compile(r"([0-9]+)")  # ASCII digits only: "²".isdigit() but int("²") fails


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that puts worker2 before worker10: digit runs compare as numbers."""
    return tuple(
        (1, int(part), part) if part.isascii() and part.isdigit() else (0, 0, part)
        for part in _DIGITS.split(text)
        if part
    )


class Action(StrEnum):
    """What happens to one resource, in the words Terraform and Pulumi users read."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    SAME = "same"
    READ = "read"


class DiffKind(StrEnum):
    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class PropertyChange:
    """One property of a resource: its path, how it changes, old -> new (secrets masked)."""

    path: str
    kind: DiffKind
    old: Any = None
    new: Any = None
    replaces: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind.value,
            "old": self.old,
            "new": self.new,
            "replaces": self.replaces,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PropertyChange:
        return cls(
            path=data["path"],
            kind=DiffKind(data["kind"]),
            old=data["old"],
            new=data["new"],
            replaces=data["replaces"],
        )


@dataclass(frozen=True)
class Step:
    """One resource's change: the action, the resource, its property changes, replace reasons."""

    action: Action
    type: str
    name: str
    urn: str
    changes: tuple[PropertyChange, ...] = ()
    replace_reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "type": self.type,
            "name": self.name,
            "urn": self.urn,
            "changes": [c.to_dict() for c in self.changes],
            "replace_reasons": list(self.replace_reasons),
        }

    def sort_key(self) -> tuple[Any, ...]:
        """Type, then name (numbers in names by value), then URN: the order every renderer uses."""
        return (self.type, natural_key(self.name), self.urn)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        return cls(
            action=Action(data["action"]),
            type=data["type"],
            name=data["name"],
            urn=data["urn"],
            changes=tuple(PropertyChange.from_dict(c) for c in data["changes"]),
            replace_reasons=tuple(data["replace_reasons"]),
        )


@dataclass(frozen=True)
class NodeChange:
    """Node-level work the plan implies: what changed in the spec, and on which nodes it runs."""

    field: str  # setup | run | envs | secrets | file_mounts | workdir | nodes
    summary: str
    nodes: tuple[str, ...] = ()
    reruns_setup: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "summary": self.summary,
            "nodes": list(self.nodes),
            "reruns_setup": self.reruns_setup,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NodeChange:
        return cls(
            field=data["field"],
            summary=data["summary"],
            nodes=tuple(data["nodes"]),
            reruns_setup=data["reruns_setup"],
        )


@dataclass(frozen=True)
class Plan:
    """Everything `styx apply` would do to a stack, made against one version of its state."""

    project: str
    stack: str
    cloud: str
    steps: tuple[Step, ...]
    node_changes: tuple[NodeChange, ...] = ()
    drift: tuple[Step, ...] = ()
    cost_before: float = 0.0
    cost_after: float = 0.0
    warnings: tuple[str, ...] = ()
    stack_version: int = 0
    spec_hash: str = ""
    git_commit: str | None = None
    setup_nodes: tuple[str, ...] = field(default=())

    def sorted(self) -> Plan:
        """The same plan in its one canonical order, whatever order the engine reported.

        The engine plans independent resources in parallel, so its events (and the steps
        collected from them) arrive in a different order on every run. Renderers and saved
        plans use this order, so two plans of the same change are the same bytes.
        """

        def step(s: Step) -> Step:
            return replace(s, changes=tuple(sorted(s.changes, key=lambda c: natural_key(c.path))))

        def node_change(c: NodeChange) -> NodeChange:
            return replace(c, nodes=tuple(sorted(c.nodes, key=natural_key)))

        def field_rank(c: NodeChange) -> int:
            return _NODE_FIELDS.index(c.field) if c.field in _NODE_FIELDS else len(_NODE_FIELDS)

        return replace(
            self,
            steps=tuple(sorted((step(s) for s in self.steps), key=Step.sort_key)),
            drift=tuple(sorted((step(s) for s in self.drift), key=Step.sort_key)),
            node_changes=tuple(
                sorted((node_change(c) for c in self.node_changes), key=field_rank)
            ),
            setup_nodes=tuple(sorted(self.setup_nodes, key=natural_key)),
        )

    @property
    def changes(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.action not in (Action.SAME, Action.READ))

    @property
    def has_changes(self) -> bool:
        return bool(self.changes) or bool(self.node_changes)

    def count(self, action: Action) -> int:
        return sum(1 for s in self.steps if s.action is action)

    def summary(self) -> str:
        counts = ", ".join(
            f"{self.count(a)} to {a.value}"
            for a in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE)
        )
        text = f"Plan: {counts}"
        if self.setup_nodes:
            n = len(self.setup_nodes)
            text += f"; setup runs on {n} node{'s' if n != 1 else ''}"
        text += f"; cost ${self.cost_before:.2f}/h -> ${self.cost_after:.2f}/h"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "project": self.project,
            "stack": self.stack,
            "cloud": self.cloud,
            "stack_version": self.stack_version,
            "spec_hash": self.spec_hash,
            "git_commit": self.git_commit,
            "summary": self.summary(),
            "has_changes": self.has_changes,
            "steps": [s.to_dict() for s in self.steps],
            "node_changes": [c.to_dict() for c in self.node_changes],
            "setup_nodes": list(self.setup_nodes),
            "drift": [s.to_dict() for s in self.drift],
            "cost": {"before": self.cost_before, "after": self.cost_after},
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        """The inverse of `to_dict`, trusting its shape (styx.plan.plan_from_dict validates first).

        `summary` and `has_changes` are derived, so they are recomputed, not read.
        """
        return cls(
            project=data["project"],
            stack=data["stack"],
            cloud=data["cloud"],
            steps=tuple(Step.from_dict(s) for s in data["steps"]),
            node_changes=tuple(NodeChange.from_dict(c) for c in data["node_changes"]),
            drift=tuple(Step.from_dict(s) for s in data["drift"]),
            cost_before=float(data["cost"]["before"]),
            cost_after=float(data["cost"]["after"]),
            warnings=tuple(data["warnings"]),
            stack_version=int(data["stack_version"]),
            spec_hash=data["spec_hash"],
            git_commit=data["git_commit"],
            setup_nodes=tuple(data["setup_nodes"]),
        )
