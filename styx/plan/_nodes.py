"""Node-level changes: diff the node fields of the new spec against the last applied ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deepdiff import DeepDiff

from styx.plan._model import NodeChange

__all__ = ["node_changes"]

# Order in which node changes are listed; the first four make setup run again.
_SETUP_FIELDS = ("setup", "envs", "secrets", "file_mounts", "workdir")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _describe(field: str, diff: DeepDiff) -> str:
    """A short human phrase for what changed inside one field."""
    if field in ("setup", "run", "workdir"):
        return f"{field} changed"
    parts: list[str] = []
    added = [str(p) for p in diff.get("dictionary_item_added", [])]
    removed = [str(p) for p in diff.get("dictionary_item_removed", [])]
    changed = [str(p) for p in diff.get("values_changed", {})]

    def keys(paths: Sequence[str]) -> str:
        return ", ".join(p.split("['", 1)[-1].rstrip("']") for p in paths)

    if added:
        parts.append(f"added {keys(added)}")
    if removed:
        parts.append(f"removed {keys(removed)}")
    if changed:
        parts.append(f"changed {keys(changed)}")
    return f"{field}: {'; '.join(parts) or 'changed'}"


def node_changes(
    previous: Mapping[str, Any] | None,
    current: Mapping[str, Any],
    nodes_before: Sequence[str],
    nodes_after: Sequence[str],
) -> tuple[tuple[NodeChange, ...], tuple[str, ...]]:
    """(changes, nodes whose setup runs) between the applied and the new node fields.

    `previous` is None when the stack was never applied: setup runs on every node then.
    New nodes always get setup; a change to a setup input re-runs it on every node.
    """
    after = list(nodes_after)
    new_nodes = [n for n in after if n not in set(nodes_before)]
    gone = [n for n in nodes_before if n not in set(after)]
    changes: list[NodeChange] = []
    if new_nodes:
        changes.append(
            NodeChange("nodes", f"{_plural(len(new_nodes), 'new node')}: setup runs there",
                       tuple(new_nodes), reruns_setup=True)
        )
    if gone:
        changes.append(NodeChange("nodes", f"{_plural(len(gone), 'node')} removed", tuple(gone)))
    if previous is None:
        return tuple(changes), tuple(after)
    setup_everywhere = False
    for field in (*_SETUP_FIELDS, "run"):
        diff = DeepDiff(previous.get(field), current.get(field), ignore_order=True)
        if not diff:
            continue
        reruns = field in _SETUP_FIELDS
        setup_everywhere = setup_everywhere or reruns
        existing = tuple(n for n in after if n not in new_nodes)
        what = _describe(field, diff)
        if reruns:
            summary = f"{what}: setup re-runs on {_plural(len(after), 'node')}"
            changes.append(NodeChange(field, summary, tuple(after), reruns_setup=True))
        else:
            summary = f"{what}: the next `styx exec` runs the new command"
            changes.append(NodeChange(field, summary, existing))
    setup_nodes = tuple(after) if setup_everywhere else tuple(new_nodes)
    return tuple(changes), setup_nodes
