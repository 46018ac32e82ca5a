"""Apply a task: plan, confirm, update the stack with the engine, then set the nodes up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from styx.plan import Plan
from styx.workflow._jobs import install_cluster_agent
from styx.workflow._lock import stack_lock
from styx.workflow._nodes import cluster_access, node_work
from styx.workflow._plan import Planned, plan_target
from styx.workflow._progress import EngineProgress, Reporter, SetupProgress, silent
from styx.workflow._target import Target

__all__ = ["ApplyResult", "apply_planned", "apply_target"]


@dataclass(frozen=True)
class ApplyResult:
    """What an apply did: the plan it showed, and whether (and where) it carried it out."""

    plan: Plan
    applied: bool
    stack_version: int
    nodes: tuple[str, ...] = ()
    setup_ran: tuple[str, ...] = ()


def apply_planned(planned: Planned, *, reporter: Reporter | None = None) -> ApplyResult:
    """Carry out `planned`; the update is tagged with the spec hash and git commit."""
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
    setup = run_setup(access, work, on_event=SetupProgress(reporter))
    setup.raise_for_failure()
    install_cluster_agent(outputs, access, planned.target.spec)  # issue 12: jobs go through it
    return ApplyResult(
        plan=plan,
        applied=True,
        stack_version=planned.ops.version(),
        nodes=tuple(n.name for n in access.nodes),
        setup_ran=tuple(n.node for n in setup.nodes if n.status == "ran"),
    )


def apply_target(
    target: Target,
    *,
    confirm: Callable[[Plan], bool] = lambda _plan: True,
    refresh: bool = True,
    reporter: Reporter | None = None,
) -> ApplyResult:
    """Plan `target`, ask `confirm(plan)` when it changes anything, then apply it.

    The stack's lock is held from the plan to the end of setup, so the plan that was
    confirmed is the plan that runs.
    """
    reporter = reporter or silent()
    with stack_lock(target.state_dir / "styx.lock", target.ref.qualified, "apply"):
        planned = plan_target(target, refresh=refresh, reporter=reporter)
        plan = planned.plan
        if not (plan.has_changes or plan.drift) or not confirm(plan):
            return ApplyResult(plan, False, plan.stack_version)
        return apply_planned(planned, reporter=reporter)
