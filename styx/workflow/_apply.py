"""Apply a task: plan, confirm, update the stack with the engine, then set the nodes up."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from styx.errors import HostKeyChangedError, Interrupted, StyxError
from styx.plan import Plan
from styx.workflow._autostop import clear_record
from styx.workflow._jobs import install_cluster_agent
from styx.workflow._lock import lock_path, stack_lock
from styx.workflow._nodes import cluster_access, node_work
from styx.workflow._outcomes import (
    NodeOutcome,
    OutcomeRecord,
    finished,
    now,
    read_outcomes,
    started,
    write_outcomes,
)
from styx.workflow._plan import Planned, host_key_message, plan_target
from styx.workflow._progress import EngineProgress, Reporter, SetupProgress, silent
from styx.workflow._records import finished_record, started_record, write_record
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


@contextmanager
def _engine_interruptible(stack: str) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        from styx import _supervise

        # Inside the stack's lock: the engine finishes cleanly before another command runs.
        _supervise.stop_supervised_children(signal.SIGTERM, wait=120)
        raise Interrupted(
            f"interrupted during the engine update of {stack}",
            still_running="the engine finished the steps in flight and recorded them; nothing "
            "goes on running; `styx plan` shows what is left and `styx apply` completes it",
        ) from None


def _check_host_keys(planned: Planned, accept: bool, reporter: Reporter) -> None:
    """Refuse nodes whose host key changed, unless told to accept the keys the cloud reports.

    The update's refresh would record whatever key the cloud reports now, and setup would
    then trust it: a changed key is accepted only by an explicit `--accept-host-keys`.
    """
    changed = planned.host_keys_changed
    if not changed:
        return
    if not accept:
        raise HostKeyChangedError(host_key_message(changed[0]) + (
            f" (also changed: {', '.join(changed[1:])})" if changed[1:] else ""), nodes=changed)
    if not planned.refreshed:
        raise HostKeyChangedError("accepting host keys needs the refresh that reads them: "
                                  "drop --no-refresh", nodes=changed)  # fmt: skip
    reporter.info(f"accepting the host keys the cloud reports now for {', '.join(changed)} "
                  "(--accept-host-keys)")  # fmt: skip


def apply_planned(
    planned: Planned,
    *,
    reporter: Reporter | None = None,
    rollback_of: int | None = None,
    accept_host_keys: bool = False,
) -> ApplyResult:
    """Carry out `planned`; the update is tagged with the spec hash and git commit.

    Takes the stack's lock unless this process holds it already (apply_target does). Each
    node's setup outcome is recorded in the state backend: "started" before setup begins,
    then ok, failed or interrupted once it ends. So is the version's record (the task as
    applied, who, the plan's summary): "setup started" once the engine's update ended, then
    the outcome; `rollback_of` marks a version made by `styx rollback`.
    A node whose host key changed is refused (HostKeyChangedError) unless
    `accept_host_keys`.
    """
    from styx.nodes import run_setup, setup_digest

    reporter = reporter or silent()
    target = planned.target
    plan = planned.plan
    message = f"styx apply spec={plan.spec_hash[:16]}"
    if plan.git_commit:
        message += f" commit={plan.git_commit}"
    with stack_lock(lock_path(target.state_dir), target.ref.qualified, "apply",
                    notify=reporter.info, backend=target.ref):  # fmt: skip
        _check_host_keys(planned, accept_host_keys, reporter)
        reporter.info(f"applying {target.ref.qualified} ...")
        # Refresh again inside the update when the plan did, so the engine repairs the drift
        # it showed (a stopped node is started again) instead of trusting the recorded state.
        began = now()
        with _engine_interruptible(target.ref.qualified):
            outputs = planned.ops.up(
                message=message, refresh=planned.refreshed,
                on_event=EngineProgress(reporter.info), report=reporter.info,
            )  # fmt: skip
            version = planned.ops.version()
        version_record = started_record(plan, target.spec, planned.graph, version, outputs,
                                        began, rollback_of)  # fmt: skip
        if target.node_state == "stopped":
            # `styx stop`: the nodes keep their folders, disks and setup; nothing to set up.
            # The version is billed at the disk rate from now on (cost-report).
            write_record(target.ref, finished_record(
                replace(version_record, state="stopped", stopped_cost=plan.cost_after),
                "succeeded", {}))  # fmt: skip
            return ApplyResult(plan=plan, applied=True, stack_version=version)
        write_record(target.ref, version_record)
        # The nodes run again: what an autostop recorded is history now.
        clear_record(target.state_dir)
        access = cluster_access(outputs, target.state_dir, target.ref.stack)
        work = node_work(target.spec, target.cluster)
        names = {n.name for n in access.nodes}
        record = read_outcomes(target.ref) or OutcomeRecord({})
        # Nodes that are gone take their outcomes with them.
        record = record.without(set(record.nodes) - names)
        digest = setup_digest(work)
        attempts = {
            n.name: started(record.get(n.name), version, digest, "") for n in access.nodes
        }
        write_outcomes(target.ref, record.with_outcomes(attempts))
        try:
            setup = run_setup(access, work, on_event=SetupProgress(reporter))
        except KeyboardInterrupt:
            cut = {n: finished(a, "interrupted", "Ctrl-C") for n, a in attempts.items()}
            write_outcomes(target.ref, record.with_outcomes(cut))
            write_record(target.ref, finished_record(
                version_record, "interrupted", {n: ("interrupted", "Ctrl-C") for n in cut}))
            raise Interrupted(
                f"interrupted during setup of {target.ref.qualified}",
                still_running=f"setup may go on running on {', '.join(sorted(names))}; "
                "`styx plan --refresh` shows where it finished, `styx apply` re-runs it "
                f"where it did not, `styx down {target.cluster}` stops it",
            ) from None
        except StyxError as err:
            failed = {n: finished(a, "failed", str(err)[:500]) for n, a in attempts.items()}
            write_outcomes(target.ref, record.with_outcomes(failed))
            write_record(target.ref, finished_record(
                version_record, "failed", {n: ("failed", str(err)) for n in failed}, str(err)))
            raise
        outcomes: dict[str, NodeOutcome] = {}
        for node in setup.nodes:
            attempt = replace(attempts[node.node], run_id=setup.run_id)
            if node.status in ("ran", "unchanged"):
                outcomes[node.node] = finished(attempt, "ok")
            else:
                why = f"{node.status}: {node.message or node.failed_task or ''}".strip(": ")
                outcomes[node.node] = finished(attempt, "failed", why[:500])
        write_outcomes(target.ref, record.with_outcomes(outcomes))
        nodes = {n: (o.status, o.message) for n, o in outcomes.items()}
        if any(o.status != "ok" for o in outcomes.values()):
            write_record(target.ref, finished_record(version_record, "failed", nodes))
        setup.raise_for_failure()
        # Jobs go through the head node's agent: installed (or upgraded) once setup is done.
        try:
            install_cluster_agent(outputs, access, target.spec)
        except StyxError as err:
            write_record(target.ref, finished_record(
                version_record, "failed", nodes, f"agent install: {err}"))
            raise
        write_record(target.ref, finished_record(version_record, "succeeded", nodes))
        return ApplyResult(
            plan=plan,
            applied=True,
            stack_version=version,
            nodes=tuple(n.name for n in access.nodes),
            setup_ran=tuple(n.node for n in setup.nodes if n.status == "ran"),
        )


def apply_target(
    target: Target,
    *,
    confirm: Callable[[Plan], bool] = lambda _plan: True,
    refresh: bool = True,
    reporter: Reporter | None = None,
    rollback_of: int | None = None,
    accept_host_keys: bool = False,
) -> ApplyResult:
    """Plan `target`, ask `confirm(plan)` when it changes anything, then apply it.

    The stack's lock is held from the plan to the end of setup, so the plan that was
    confirmed is the plan that runs. Nodes whose host key changed are refused before
    anything is asked or changed, unless `accept_host_keys`.
    """
    reporter = reporter or silent()
    with stack_lock(lock_path(target.state_dir), target.ref.qualified, "apply",
                    notify=reporter.info, backend=target.ref):  # fmt: skip
        planned = plan_target(target, refresh=refresh, reporter=reporter)
        plan = planned.plan
        if planned.outcomes_from_nodes and planned.outcomes is not None:
            # The nodes' own records say more than the backend's (a setup that went on
            # after its styx was killed finished since): record what they say happened.
            reporter.info("recording the setup outcomes the nodes report")
            write_outcomes(target.ref, planned.outcomes)
        _check_host_keys(planned, accept_host_keys, silent())
        if not (plan.has_changes or plan.drift) or not confirm(plan):
            return ApplyResult(plan, False, plan.stack_version)
        return apply_planned(planned, reporter=reporter, rollback_of=rollback_of,
                             accept_host_keys=accept_host_keys)
