"""Tear a cluster down: destroy every resource of its stack, keeping the stack's history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from styx.engine import StackOps, StackRef, open_stack
from styx.errors import StackNotFoundError
from styx.retention import mark_down, sweep
from styx.workflow._lock import stack_lock
from styx.workflow._progress import EngineProgress, Reporter, silent
from styx.workflow._target import stack_dir

__all__ = ["DownResult", "down_stack"]


@dataclass(frozen=True)
class DownResult:
    stack: str
    destroyed: bool
    nodes: tuple[str, ...]


def down_stack(
    ref: StackRef,
    *,
    confirm: Callable[[tuple[str, ...]], bool] = lambda _nodes: True,
    reporter: Reporter | None = None,
) -> DownResult:
    """Destroy the stack's resources after `confirm(nodes)`; nothing to do is not an error."""
    reporter = reporter or silent()
    with stack_lock(stack_dir(ref) / "styx.lock", ref.qualified, "down"):
        result = _down(ref, confirm, reporter)
    if result.destroyed or not result.nodes:
        # After the lock's last write, so the marker is the newest thing in the stack's folder:
        # the retention policy starts the clock on the stack's logs here.
        mark_down(stack_dir(ref))
    sweep()
    return result


def _down(
    ref: StackRef, confirm: Callable[[tuple[str, ...]], bool], reporter: Reporter
) -> DownResult:
    try:
        ops = StackOps(open_stack(ref, create=False))
    except StackNotFoundError:
        reporter.info(f"stack {ref.qualified} does not exist: nothing to tear down")
        return DownResult(ref.stack, False, ())
    outputs = ops.outputs()
    nodes = tuple(str(n.get("name")) for n in outputs.get("nodes") or [])
    if not outputs:
        reporter.info(f"stack {ref.qualified} has no resources: nothing to tear down")
        return DownResult(ref.stack, False, ())
    if not confirm(nodes):
        return DownResult(ref.stack, False, nodes)
    reporter.info(f"tearing down {ref.qualified} ...")
    ops.destroy(message=f"styx down {ref.stack}", on_event=EngineProgress(reporter.info))
    return DownResult(ref.stack, True, nodes)
