"""A stack's versions as library calls: history, show, diff and rollback, from the backend alone.

Versions are the engine's own (its history, numbered from the oldest update); what Styx adds
to each is the version record (styx.workflow._records). An engine update without a record
(a teardown, a refresh, an update that failed in the engine) is listed from the engine's
history alone, with what the engine says of it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from styx.engine import EngineUpdate, StackOps, StackRef, open_stack
from styx.errors import StyxError
from styx.plan import Action, DiffKind, Plan, PropertyChange, Step, node_changes
from styx.workflow._apply import ApplyResult, apply_target
from styx.workflow._progress import Reporter
from styx.workflow._records import VersionRecord, list_records, read_record, spec_from_task
from styx.workflow._target import Target

__all__ = [
    "HistoryEntry",
    "VersionShow",
    "diff_versions",
    "dump_yaml",
    "rollback",
    "rollback_target",
    "show_version",
    "stack_history",
    "task_yaml",
]


@dataclass(frozen=True)
class HistoryEntry:
    """One version of a stack: the engine's update and, when Styx applied it, its record."""

    version: int
    # apply | rollback | destroy | refresh | update (an engine update Styx did not record)
    kind: str
    started: datetime
    ended: datetime | None
    engine_result: str  # succeeded | failed | in-progress
    record: VersionRecord | None

    @property
    def who(self) -> str:
        return self.record.who if self.record else ""

    @property
    def git_commit(self) -> str | None:
        return self.record.git_commit if self.record else None

    @property
    def summary(self) -> str:
        if self.record is not None:
            text = self.record.summary()
            if self.record.rollback_of is not None:
                text = f"rollback to {self.record.rollback_of}: {text}"
            return text
        return {"destroy": "teardown", "refresh": "refresh"}.get(self.kind, "engine update")

    @property
    def result(self) -> str:
        if self.engine_result != "succeeded":
            return f"{self.engine_result} in the engine"
        if self.record is not None:
            return self.record.describe_result()
        return "succeeded"

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "kind": self.kind,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat() if self.ended else None,
            "who": self.who,
            "git_commit": self.git_commit,
            "git_dirty": self.record.git_dirty if self.record else None,
            "spec_hash": self.record.spec_hash if self.record else None,
            "summary": self.summary,
            "result": self.result,
            "cost_after": self.record.cost_after if self.record else None,
            "rollback_of": self.record.rollback_of if self.record else None,
        }


def _ops(ref: StackRef) -> StackOps:
    return StackOps(open_stack(ref, create=False))


def history_entries(
    updates: tuple[EngineUpdate, ...], records: Mapping[int, VersionRecord]
) -> tuple[HistoryEntry, ...]:
    """The engine's updates joined with Styx's records by version (pure: for tests too)."""
    entries = []
    for update in updates:
        record = records.get(update.version)
        kind = record.kind if record is not None and update.kind == "update" else update.kind
        entries.append(HistoryEntry(update.version, kind, update.start, update.end,
                                    update.result, record))  # fmt: skip
    return tuple(entries)


def stack_history(ref: StackRef) -> tuple[HistoryEntry, ...]:
    """Every version of the stack, oldest first (StackNotFoundError when there is none)."""
    return history_entries(_ops(ref).updates(), list_records(ref))


@dataclass(frozen=True)
class VersionShow:
    """One version: its record (task, outputs, node outcomes)."""

    record: VersionRecord

    def to_dict(self) -> dict[str, Any]:
        return self.record.to_dict()


def _record(ref: StackRef, version: int | None) -> VersionRecord:
    if version is None:
        records = list_records(ref)
        if not records:
            raise StyxError(f"{ref.qualified} has no version applied by Styx to show")
        return records[max(records)]
    found = read_record(ref, version)
    if found is None:
        raise StyxError(
            f"{ref.qualified} has no Styx record of version {version}: it was not applied by "
            f"`styx apply` (see `styx history {ref.stack}`)"
        )
    return found


def show_version(ref: StackRef, version: int | None = None) -> VersionShow:
    """The record of `version` (the latest Styx applied when None)."""
    return VersionShow(_record(ref, version))


# Resources.to_dict's keys that a task file spells otherwise.
_TASK_KEYS = {"memory_gb": "memory", "disk_size_gb": "disk_size", "accelerator": "accelerators"}


def task_yaml(record: VersionRecord) -> str:
    """The task as applied, as a SkyPilot task YAML (secrets by name, their values never)."""
    task = record.task

    def resources(data: Mapping[str, Any]) -> dict[str, Any]:
        return {_TASK_KEYS.get(k, k): v for k, v in data.items()
                if v not in (None, [], {}, False)}  # fmt: skip

    doc: dict[str, Any] = {}
    if task.get("name"):
        doc["name"] = task["name"]
    doc["num_nodes"] = task["num_nodes"]
    block = resources(task["resources"])
    candidates = [resources(c) for c in task.get("candidates") or ()]
    if len(candidates) > 1:
        shared = {k: v for k, v in block.items() if all(c.get(k) == v for c in candidates)}
        rest = [{k: v for k, v in c.items() if k not in shared} for c in candidates]
        ordered = bool(task.get("candidates_ordered"))
        if all(set(r) == {"accelerators"} for r in rest):
            # SkyPilot's forms: a list is a preference order, a mapping is any of them.
            choices = [str(r["accelerators"]) for r in rest]
            block = {**shared, "accelerators": choices if ordered else
                     {n: float(c) for n, _, c in (x.rpartition(":") for x in choices)}}
        else:
            block = {**shared, ("ordered" if ordered else "any_of"): rest}
    doc["resources"] = block
    for key in ("envs", "file_mounts"):
        if task.get(key):
            doc[key] = dict(task[key])
    if task.get("secrets"):
        doc["secrets"] = {name: None for name in task["secrets"]}
    for key in ("workdir", "setup", "run"):
        if task.get(key) is not None:
            doc[key] = task[key]
    head = (f"# The task applied at version {record.version} ({record.who}, "
            f"{record.started_at}); secrets by name only.\n")  # fmt: skip
    return head + dump_yaml(doc)


def dump_yaml(data: Any) -> str:
    """YAML as a person writes a task: keys in order, multi-line scripts as literal blocks."""
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.scalarstring import LiteralScalarString

    def literal(value: Any) -> Any:
        if isinstance(value, str) and "\n" in value:
            return LiteralScalarString(value)
        if isinstance(value, Mapping):
            return {str(k): literal(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [literal(v) for v in value]
        return value

    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.representer.add_representer(
        type(None), lambda rep, _v: rep.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    out = io.StringIO()
    yaml.dump(literal(data), out)
    return out.getvalue()


# -- diff ----------------------------------------------------------------------------------


def _steps(ref: StackRef, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Step]:
    def by_name(graph: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        return {r["name"]: r for r in graph.get("resources") or ()}

    old, new = by_name(before), by_name(after)
    steps = []
    for name in sorted(old.keys() | new.keys()):
        a, b = old.get(name), new.get(name)
        kind = str((b or a or {}).get("kind", "?"))
        urn = f"urn:pulumi:{ref.stack}::{ref.project}::{kind}::{name}"
        if a is None:
            steps.append(Step(Action.CREATE, kind, name, urn))
            continue
        if b is None:
            steps.append(Step(Action.DELETE, kind, name, urn))
            continue
        args_a, args_b = a.get("args") or {}, b.get("args") or {}
        changes = []
        for key in sorted(args_a.keys() | args_b.keys()):
            if key not in args_a:
                changes.append(PropertyChange(key, DiffKind.ADD, None, args_b[key]))
            elif key not in args_b:
                changes.append(PropertyChange(key, DiffKind.DELETE, args_a[key], None))
            elif args_a[key] != args_b[key]:
                changes.append(PropertyChange(key, DiffKind.UPDATE, args_a[key], args_b[key]))
        action = Action.UPDATE if changes or a.get("kind") != b.get("kind") else Action.SAME
        steps.append(Step(action, kind, name, urn, tuple(changes)))
    return steps


def diff_records(ref: StackRef, a: VersionRecord, b: VersionRecord) -> Plan:
    """What changes from `a`'s task to `b`'s, as a plan: resources, nodes, node fields, cost.

    Pure: made from the two records' compiled graphs. Any changed argument shows as an
    update; whether the engine replaces the resource for it is the engine's call at apply.
    """
    graph_a, graph_b = a.graph, b.graph
    changes, setup_nodes = node_changes(
        graph_a.get("node_fields"), graph_b.get("node_fields") or {},
        list(graph_a.get("nodes") or ()), list(graph_b.get("nodes") or ()),
    )  # fmt: skip
    return Plan(
        project=ref.project,
        stack=ref.stack,
        cloud=str(graph_b.get("cloud", "")),
        steps=tuple(_steps(ref, graph_a, graph_b)),
        node_changes=changes,
        cost_before=a.cost_after,
        cost_after=b.cost_after,
        stack_version=b.version,
        spec_hash=b.spec_hash,
        git_commit=b.git_commit,
        setup_nodes=setup_nodes,
        warnings=(f"version {a.version} -> version {b.version}: compiled from the two "
                  "recorded tasks; `styx rollback` plans against the real stack",),
    ).sorted()


def diff_versions(ref: StackRef, a: int, b: int | None = None) -> Plan:
    """What changed from version `a` to version `b` (the latest Styx applied when None)."""
    return diff_records(ref, _record(ref, a), _record(ref, b))


# -- rollback ------------------------------------------------------------------------------


def rollback_target(
    ref: StackRef, version: int | None, secrets: Mapping[str, str] | None = None
) -> Target:
    """The target whose task is version `version`'s (None: the latest), on the same stack.

    Secret values are never recorded: each named secret comes from `secrets`, else from an
    environment variable of its name (as `--secret NAME` reads it).
    """
    record = _record(ref, version)
    given = dict(secrets or {})
    for name in record.secret_names:
        if name not in given and name in os.environ:
            given[name] = os.environ[name]
    return Target(spec_from_task(record.task, given), ref)


def applied_target(ref: StackRef, secrets: Mapping[str, str] | None = None) -> Target:
    """The cluster's task as last applied: what `styx stop|start|autostop CLUSTER` change,
    by name, with no task file at hand (the backend's version record holds it)."""
    return rollback_target(ref, None, secrets)


def rollback(
    ref: StackRef,
    version: int,
    *,
    secrets: Mapping[str, str] | None = None,
    confirm: Callable[[Plan], bool] = lambda _plan: True,
    reporter: Reporter | None = None,
) -> ApplyResult:
    """Plan the way back to version `version`'s task, ask `confirm(plan)`, apply it.

    The result is a new version (recorded as a rollback of `version`); history is kept.
    """
    target = rollback_target(ref, version, secrets)
    return apply_target(target, confirm=confirm, reporter=reporter, rollback_of=version)
