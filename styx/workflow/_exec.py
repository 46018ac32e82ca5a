"""Run the task's job on its cluster: every node at once, output streamed, exit codes kept."""

from __future__ import annotations

from styx.engine import StackOps, open_stack
from styx.errors import Interrupted, NodeError, StackNotFoundError
from styx.nodes import ClusterAccess, JobResult, run_job
from styx.workflow._lock import lock_path, stack_lock
from styx.workflow._nodes import cluster_access, node_work
from styx.workflow._outcomes import read_outcomes
from styx.workflow._progress import Reporter, silent
from styx.workflow._target import Target

__all__ = ["exec_job", "require_setup_complete"]


def require_setup_complete(target: Target, access: ClusterAccess) -> None:
    """NodeError naming every node whose last setup did not complete: no job runs there."""
    record = read_outcomes(target.ref)
    unready: list[str] = []
    for node in access.nodes:
        outcome = record.get(node.name) if record is not None else None
        if outcome is None:
            unready.append(f"{node.name} (setup never ran)")
        elif not outcome.complete:
            unready.append(f"{node.name} ({outcome.describe()})")
    if unready:
        raise NodeError(
            f"cluster {target.cluster} is not set up on {', '.join(unready)}: no job runs "
            "there; `styx apply` completes setup first",
            node=unready[0].split(" ")[0],
        )


def exec_job(target: Target, *, reporter: Reporter | None = None, wait: float = 0.0) -> JobResult:
    """Run `run` on every node of the target's applied cluster.

    Jobs share the stack's lock with each other and exclude apply and down (`wait` seconds
    for it, else StackLockedError naming the holder). A job never starts on a cluster with a
    node whose last setup did not complete: NodeError names those nodes.
    """
    reporter = reporter or silent()
    with stack_lock(lock_path(target.state_dir), target.ref.qualified, "exec", shared=True,
                    wait=wait, notify=reporter.info, backend=target.ref):  # fmt: skip
        try:
            outputs = StackOps(open_stack(target.ref, create=False)).outputs()
        except StackNotFoundError as err:
            raise StackNotFoundError(
                f"cluster {target.cluster} does not exist: run `styx apply` first", stack=err.stack
            ) from err
        access = cluster_access(outputs, target.state_dir, target.ref.stack)
        require_setup_complete(target, access)
        reporter.info(f"running the job on {len(access.nodes)} node(s) of {target.cluster} ...")
        try:
            return run_job(
                access, node_work(target.spec, target.cluster), on_output=reporter.output
            )
        except KeyboardInterrupt:
            raise Interrupted(
                f"interrupted while following the job on {target.cluster}",
                still_running=f"the job may go on running on {len(access.nodes)} node(s) of "
                f"{target.cluster} (logs under {target.state_dir / 'logs'}); "
                f"`styx down {target.cluster}` stops it",
            ) from None
