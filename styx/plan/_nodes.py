"""Node-level changes: the task against each node's recorded setup outcome (and the last fields).

Which nodes set up again is decided by the outcome record (the inputs of the last setup that
succeeded on each node, and whether the last attempt finished); the engine's recorded node
fields, written before setup runs, only say in words what changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deepdiff import DeepDiff

from styx.plan._model import NodeChange

__all__ = ["NodeSetupState", "node_changes"]


@dataclass(frozen=True)
class NodeSetupState:
    """What the outcome record says of one node's setup.

    `ok_digest`: the setup inputs of the last setup that succeeded there (None: never).
    `unfinished`: why the last attempt did not complete, e.g. "last attempt failed at
    version 3"; None when it succeeded.
    """

    ok_digest: str | None
    unfinished: str | None = None

# Order in which node changes are listed; the first four make setup run again.
_SETUP_FIELDS = ("setup", "envs", "secrets", "file_mounts", "storage", "workdir")


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
    *,
    digest: str | None = None,
    setup_states: Mapping[str, NodeSetupState] | None = None,
) -> tuple[tuple[NodeChange, ...], tuple[str, ...]]:
    """(changes, nodes whose setup runs): the new spec against what the stack recorded.

    With `digest` (the new setup inputs), each node's setup state from the outcome record
    decides: a node whose last attempt did not finish, or whose last good inputs differ,
    sets up again; `setup_states` None means no outcome was ever recorded for the stack.
    Without `digest`, only the applied node fields are compared.
    """
    if digest is None:
        return _field_changes(previous, current, nodes_before, nodes_after)
    changes, _ = _field_changes(previous, current, nodes_before, nodes_after)
    after = list(nodes_after)
    new_nodes = set(after) - set(nodes_before)
    states = setup_states or {}
    unfinished: dict[str, list[str]] = {}
    never: list[str] = []
    stale: list[str] = []
    for node in after:
        if node in new_nodes:
            continue
        state = states.get(node)
        if state is None:
            never.append(node)
        elif state.unfinished is not None:
            unfinished.setdefault(state.unfinished, []).append(node)
        elif state.ok_digest != digest:
            stale.append(node)
    # Field diffs of setup inputs are true only where the nodes' last good inputs differ.
    kept = [c for c in changes if not (c.reruns_setup and c.field != "nodes")]
    if stale:
        described = [c for c in changes if c.reruns_setup and c.field != "nodes"]
        for change in described or [
            NodeChange("setup", "setup inputs changed", reruns_setup=True)
        ]:
            what = change.summary.split(": setup re-runs")[0]
            kept.append(NodeChange(
                change.field, f"{what}: setup re-runs on {_plural(len(stale), 'node')}",
                tuple(stale),
                reruns_setup=True,
            ))  # fmt: skip
    for why, nodes in unfinished.items():
        kept.append(NodeChange("setup", f"setup re-runs on {_list(nodes)} ({why})",
                               tuple(nodes), reruns_setup=True))  # fmt: skip
    if never:
        why = "no setup outcome recorded" if setup_states is None else "setup never ran there"
        kept.append(NodeChange("setup", f"setup runs on {_list(never)} ({why})",
                               tuple(never), reruns_setup=True))  # fmt: skip
    rerun = set(stale) | set(never) | {n for ns in unfinished.values() for n in ns} | new_nodes
    return tuple(kept), tuple(n for n in after if n in rerun)


def _list(nodes: Sequence[str]) -> str:
    return ", ".join(nodes) if len(nodes) <= 4 else f"{len(nodes)} nodes"


def _field_changes(
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
        # A first apply lists what the nodes get from buckets (which bucket, how it lands):
        # it is fetched or mounted at setup, not seen in the infrastructure's resources.
        storage = current.get("storage") or {}
        if storage:
            landed = "; ".join(f"{dst} <- {what}" for dst, what in sorted(storage.items()))
            changes.append(NodeChange("storage", f"buckets: {landed}", tuple(after)))
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
