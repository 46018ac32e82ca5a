"""Carry out a plan: update the stack with the engine, then run setup where it is needed."""

from __future__ import annotations

from dataclasses import dataclass

from styx.workflow._nodes import cluster_access, node_work
from styx.workflow._plan import Planned
from styx.workflow._progress import EngineProgress, Reporter, silent

__all__ = ["ApplyResult", "apply_planned"]


@dataclass(frozen=True)
class ApplyResult:
    stack_version: int
    nodes: tuple[str, ...]
    setup_ran: tuple[str, ...]


def apply_planned(planned: Planned, *, reporter: Reporter | None = None) -> ApplyResult:
    """Apply `planned` on its stack; the update is tagged with the spec hash and git commit."""
    from styx.nodes import run_setup

    reporter = reporter or silent()
    plan = planned.plan
    message = f"styx apply spec={plan.spec_hash[:16]}"
    if plan.git_commit:
        message += f" commit={plan.git_commit}"
    reporter.info(f"applying {planned.target.ref.qualified} ...")
    # Refresh again inside the update when the plan did, so the engine repairs the drift
    # it showed (a stopped node is started again) instead of trusting the recorded state.
    outputs = planned.ops.up(
        message=message, refresh=planned.refreshed, on_event=EngineProgress(reporter.info)
    )
    access = cluster_access(outputs, planned.target.state_dir, planned.target.ref.stack)
    work = node_work(planned.target.spec, planned.target.cluster)
    setup = run_setup(access, work, on_event=lambda event: reporter.info(str(event)))
    return ApplyResult(
        stack_version=planned.ops.version(),
        nodes=tuple(n.name for n in access.nodes),
        setup_ran=tuple(setup.ran_on),
    )
