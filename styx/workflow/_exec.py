"""Run the task's job on its cluster: every node at once, output streamed, exit codes kept."""

from __future__ import annotations

from styx.engine import StackOps, open_stack
from styx.errors import StackNotFoundError
from styx.nodes import JobResult, run_job
from styx.workflow._nodes import cluster_access, node_work
from styx.workflow._progress import Reporter, silent
from styx.workflow._target import Target

__all__ = ["exec_job"]


def exec_job(target: Target, *, reporter: Reporter | None = None) -> JobResult:
    """Run `run` on every node of the target's applied cluster."""
    reporter = reporter or silent()
    try:
        outputs = StackOps(open_stack(target.ref, create=False)).outputs()
    except StackNotFoundError as err:
        raise StackNotFoundError(
            f"cluster {target.cluster} does not exist: run `styx apply` first", stack=err.stack
        ) from err
    access = cluster_access(outputs, target.state_dir, target.ref.stack)
    reporter.info(f"running the job on {len(access.nodes)} node(s) of {target.cluster} ...")
    return run_job(access, node_work(target.spec, target.cluster), on_output=reporter.output)
