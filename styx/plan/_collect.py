"""Turn the engine's step events into Plan steps: op, resource, property changes, replace keys.

The events are read by their shape (the protocols below, which Pulumi's Automation API
event classes satisfy) and their ops and diff kinds by their string values, so the plan
stage stays pure: importing it loads no Pulumi.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Protocol

from styx.plan._model import SECRET, Action, DiffKind, PropertyChange, Step

__all__ = ["EngineEvent", "StepEventMetadata", "steps_from_events"]


class PropertyDiff(Protocol):
    @property
    def diff_kind(self) -> str: ...


class StepState(Protocol):
    @property
    def inputs(self) -> Mapping[str, Any] | None: ...

    @property
    def outputs(self) -> Mapping[str, Any] | None: ...


class StepEventMetadata(Protocol):
    """A step's metadata as the engine reports it (pulumi.automation.StepEventMetadata)."""

    @property
    def op(self) -> str: ...

    @property
    def urn(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def old(self) -> StepState | None: ...

    @property
    def new(self) -> StepState | None: ...

    @property
    def keys(self) -> Sequence[str] | None: ...

    @property
    def diffs(self) -> Sequence[str] | None: ...

    @property
    def detailed_diff(self) -> Mapping[str, PropertyDiff] | None: ...


class _StepEvent(Protocol):
    @property
    def metadata(self) -> StepEventMetadata: ...


class EngineEvent(Protocol):
    """The two engine events a plan reads (pulumi.automation.EngineEvent)."""

    @property
    def resource_pre_event(self) -> _StepEvent | None: ...

    @property
    def res_outputs_event(self) -> _StepEvent | None: ...


# The engine's op and diff-kind names (Pulumi's OpType and DiffKind are str enums).
_ACTIONS: Final[Mapping[str, Action]] = {
    "create": Action.CREATE,
    "update": Action.UPDATE,
    "replace": Action.REPLACE,
    "delete": Action.DELETE,
    "same": Action.SAME,
    "read": Action.READ,
}
_REFRESH: Final = "refresh"

_DIFF_KINDS: Final[Mapping[str, tuple[DiffKind, bool]]] = {
    "add": (DiffKind.ADD, False),
    "add-replace": (DiffKind.ADD, True),
    "update": (DiffKind.UPDATE, False),
    "update-replace": (DiffKind.UPDATE, True),
    "delete": (DiffKind.DELETE, False),
    "delete-replace": (DiffKind.DELETE, True),
}

# Resources the engine manages for itself; a user never asked for them.
_INTERNAL_TYPES = ("pulumi:pulumi:Stack", "pulumi:providers:")
_PATH_PART = re.compile(r"[^.\[\]]+|\[\d+\]")
_SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker for a secret value


def _is_internal(meta: StepEventMetadata) -> bool:
    return meta.type.startswith(_INTERNAL_TYPES)


def _mask(value: Any) -> Any:
    """Replace secret values (engine-marked) with SECRET, recursively."""
    if isinstance(value, Mapping):
        if value.get(_SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            return SECRET
        return {k: _mask(v) for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if value == "[secret]":
        return SECRET
    return value


def _lookup(props: Mapping[str, Any] | None, path: str) -> Any:
    value: Any = props or {}
    for part in _PATH_PART.findall(path):
        if part.startswith("["):
            index = int(part[1:-1])
            value = value[index] if isinstance(value, list) and index < len(value) else None
        else:
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            return None
    return _mask(value)


def _changes(meta: StepEventMetadata) -> tuple[PropertyChange, ...]:
    old = meta.old.inputs if meta.old else None
    new = meta.new.inputs if meta.new else None
    replace_keys = set(meta.keys or [])
    out: list[PropertyChange] = []
    if meta.detailed_diff:
        for path, diff in sorted(meta.detailed_diff.items()):
            if path.startswith("__"):
                continue
            kind, replaces = _DIFF_KINDS.get(diff.diff_kind, (DiffKind.UPDATE, False))
            out.append(
                PropertyChange(
                    path=path,
                    kind=kind,
                    old=_lookup(old, path) if kind is not DiffKind.ADD else None,
                    new=_lookup(new, path) if kind is not DiffKind.DELETE else None,
                    replaces=replaces or path in replace_keys,
                )
            )
    else:
        # Providers that report "changed" without saying where (Python dynamic providers
        # do) get the top-level inputs compared here, so the plan still names them.
        paths = meta.diffs or sorted(
            key for key in set(old or {}) | set(new or {})
            if (old or {}).get(key) != (new or {}).get(key)
        )
        for path in sorted(paths):
            if not path.startswith("__"):
                out.append(
                    PropertyChange(
                        path, DiffKind.UPDATE, _lookup(old, path), _lookup(new, path),
                        path in replace_keys,
                    )
                )
    return tuple(out)


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _drift(meta: StepEventMetadata) -> Step | None:
    """A finished refresh step whose observed outputs differ from the recorded ones.

    The refresh's pre-event still carries the recorded state on both sides; only its
    outputs event has what the provider read.
    """
    old = (meta.old.outputs if meta.old else None) or {}
    new = (meta.new.outputs if meta.new else None) or {}
    if meta.new is None:
        return Step(Action.DELETE, meta.type, _name(meta.urn), meta.urn)
    changes = tuple(
        PropertyChange(key, DiffKind.UPDATE, _mask(old.get(key)), _mask(new.get(key)))
        for key in sorted(set(old) | set(new))
        if not key.startswith("__") and old.get(key) != new.get(key)
    )
    if not changes:
        return None
    return Step(Action.UPDATE, meta.type, _name(meta.urn), meta.urn, changes)


def steps_from_events(events: Iterable[EngineEvent]) -> tuple[tuple[Step, ...], tuple[Step, ...]]:
    """(steps, drift) from a preview's events, in the order the engine planned them."""
    steps: dict[str, Step] = {}
    drift: dict[str, Step] = {}
    for event in events:
        done = event.res_outputs_event
        if done is not None and done.metadata.op == _REFRESH:
            if not _is_internal(done.metadata):
                found = _drift(done.metadata)
                if found is not None:
                    drift[done.metadata.urn] = found
            continue
        pre = event.resource_pre_event
        if pre is None or _is_internal(pre.metadata) or pre.metadata.op == _REFRESH:
            continue
        meta = pre.metadata
        action = _ACTIONS.get(meta.op)
        if action is None:
            continue  # create-replacement / delete-replaced belong to a REPLACE step
        steps[meta.urn] = Step(
            action=action,
            type=meta.type,
            name=_name(meta.urn),
            urn=meta.urn,
            changes=_changes(meta) if action in (Action.UPDATE, Action.REPLACE) else (),
            replace_reasons=tuple(meta.keys or ()) if action is Action.REPLACE else (),
        )
    return tuple(steps.values()), tuple(drift.values())
