"""Tear a cluster down: destroy its stack's resources and whatever of it the host still holds.

The stack's history stays. Success means nothing is left: the engine destroyed every
resource it recorded, and the local cloud found no node process, folder or network entry of
the cluster on this host (an interrupted first apply leaves nodes the stack never recorded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from styx.engine import StackOps, StackRef, open_stack
from styx.errors import Interrupted, StackNotFoundError
from styx.home import styx_home
from styx.workflow._lock import lock_path, stack_lock
from styx.workflow._outcomes import remove_outcomes
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
    wait: float = 0.0,
) -> DownResult:
    """Destroy the stack's resources after `confirm(nodes)`; nothing to do is not an error.

    Holds the stack's lock (`wait` seconds for it, else StackLockedError naming the holder),
    so no apply or job runs meanwhile. Raises NodeError when something of the cluster
    survives.
    """
    reporter = reporter or silent()
    with stack_lock(lock_path(stack_dir(ref)), ref.qualified, "down", wait=wait,
                    notify=reporter.info):  # fmt: skip
        try:
            return _down(ref, confirm, reporter)
        except KeyboardInterrupt:
            from styx import _supervise

            _supervise.stop_supervised_children(wait=120)
            raise Interrupted(
                f"interrupted while tearing down {ref.qualified}",
                still_running="the engine finished the steps in flight and recorded them; "
                f"`styx down {ref.stack}` finishes the teardown",
            ) from None


def _recorded(ops: StackOps) -> tuple[tuple[str, ...], bool]:
    """(node names from the outputs, whether the engine records any resource)."""
    outputs = ops.outputs()
    nodes = tuple(str(n.get("name")) for n in outputs.get("nodes") or [])
    return nodes, bool(outputs) or ops.resource_count() > 0


def _down(
    ref: StackRef, confirm: Callable[[tuple[str, ...]], bool], reporter: Reporter
) -> DownResult:
    from styx.clouds.local import find_leftovers, sweep_cluster

    try:
        ops: StackOps | None = StackOps(open_stack(ref, create=False))
    except StackNotFoundError:
        ops = None
    nodes, recorded = _recorded(ops) if ops is not None else ((), False)
    on_host = find_leftovers(styx_home(), ref.stack)
    if not recorded and on_host.empty:
        remove_outcomes(ref)
        reporter.info(f"stack {ref.qualified} has no resources: nothing to tear down")
        return DownResult(ref.stack, False, ())
    shown = nodes or on_host.nodes
    if not confirm(shown):
        return DownResult(ref.stack, False, shown)
    reporter.info(f"tearing down {ref.qualified} ...")
    if ops is not None and recorded:
        ops.destroy(message=f"styx down {ref.stack}", on_event=EngineProgress(reporter.info),
                    report=reporter.info)  # fmt: skip
    if not on_host.empty:
        what = on_host.describe()
        reporter.info(f"removing what the host still holds of {ref.stack}: {what}")
    sweep_cluster(styx_home(), ref.stack)
    remove_outcomes(ref)
    return DownResult(ref.stack, True, shown)
