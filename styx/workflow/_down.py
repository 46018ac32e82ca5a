"""Tear a cluster down: destroy its stack's resources and whatever of it the host still holds.

The stack's history stays. Success means nothing is left: the engine destroyed every
resource it recorded, and the local cloud found no node process, folder or network entry of
the cluster on this host (an interrupted first apply leaves nodes the stack never recorded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from styx.clouds import HOST_CLOUDS, cloud_named
from styx.engine import StackOps, StackRef, open_stack
from styx.errors import Interrupted, StackNotFoundError
from styx.retention import mark_down, sweep
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
                    notify=reporter.info, backend=ref):  # fmt: skip
        try:
            result = _down(ref, confirm, reporter)
        except KeyboardInterrupt:
            from styx import _supervise

            _supervise.stop_supervised_children(wait=120)
            raise Interrupted(
                f"interrupted while tearing down {ref.qualified}",
                still_running="the engine finished the steps in flight and recorded them; "
                f"`styx down {ref.stack}` finishes the teardown",
            ) from None
    if result.destroyed or not result.nodes:
        # After the lock's last write, so the marker is the newest thing in the stack's folder:
        # the retention policy starts the clock on the stack's logs here.
        mark_down(stack_dir(ref))
    sweep()
    return result


def _recorded(ops: StackOps) -> tuple[tuple[str, ...], bool]:
    """(node names from the outputs, whether the engine records any resource)."""
    outputs = ops.outputs()
    nodes = tuple(str(n.get("name")) for n in outputs.get("nodes") or [])
    return nodes, bool(outputs) or ops.resource_count() > 0


def _down(
    ref: StackRef, confirm: Callable[[tuple[str, ...]], bool], reporter: Reporter
) -> DownResult:
    try:
        ops: StackOps | None = StackOps(open_stack(ref, create=False))
    except StackNotFoundError:
        ops = None
    nodes, recorded = _recorded(ops) if ops is not None else ((), False)
    hosts = [cloud_named(name) for name in HOST_CLOUDS]
    held = [(cloud, cloud.host_leftovers(ref.stack)) for cloud in hosts]
    on_host = [(cloud, h) for cloud, h in held if not h.empty]
    if not recorded and not on_host:
        remove_outcomes(ref)
        reporter.info(f"stack {ref.qualified} has no resources: nothing to tear down")
        return DownResult(ref.stack, False, ())
    shown = nodes or tuple(n for _cloud, h in on_host for n in h.nodes)
    if not confirm(shown):
        return DownResult(ref.stack, False, shown)
    reporter.info(f"tearing down {ref.qualified} ...")
    if ops is not None and recorded:
        ops.destroy(message=f"styx down {ref.stack}", on_event=EngineProgress(reporter.info),
                    report=reporter.info)  # fmt: skip
    for cloud in hosts:
        # Looked at again after the engine's teardown: what it did not remove (nodes of a
        # killed apply the stack never recorded, a folder left by hand) is said, then swept.
        left = cloud.host_leftovers(ref.stack)
        if not left.empty:
            reporter.info(f"removing what the host still holds of {ref.stack}: "
                          f"{left.description}")  # fmt: skip
        cloud.sweep_host(ref.stack)
    remove_outcomes(ref)
    return DownResult(ref.stack, True, shown)
