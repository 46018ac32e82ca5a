"""Make a plan: compile the target, preview it on its stack, diff the nodes against outcomes."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from styx.compile import ResourceGraph
from styx.engine import StackOps, open_stack
from styx.errors import StyxError
from styx.nodes import read_node_records, setup_digest, ssh_cause
from styx.plan import NodeChange, NodeSetupState, Plan, node_changes, steps_from_events
from styx.workflow._autostop import autostop_meaning, describe_autostop, read_record
from styx.workflow._build import compile_target, program_for
from styx.workflow._jobs import job_warnings
from styx.workflow._lock import lock_path, stack_holder
from styx.workflow._nodes import cluster_access, node_work
from styx.workflow._outcomes import NodeOutcome, OutcomeRecord, read_outcomes
from styx.workflow._progress import Reporter, silent
from styx.workflow._target import Target, git_commit

__all__ = ["Planned", "plan_target"]


@dataclass(frozen=True)
class Planned:
    """A plan together with what produced it, so apply can carry it out on the same stack."""

    target: Target
    graph: ResourceGraph
    plan: Plan
    ops: StackOps
    previous: Mapping[str, Any]  # the stack's outputs when the plan was made
    refreshed: bool  # whether the plan read the real state first
    # The node outcomes the plan used, and whether the nodes' own records corrected them.
    outcomes: OutcomeRecord | None = None
    outcomes_from_nodes: bool = False
    # Nodes ssh refused because their host key is not the recorded one (plan --refresh).
    host_keys_changed: tuple[str, ...] = ()


def host_key_message(node: str) -> str:
    """What a plan and an apply say of a node whose host key changed (one line)."""
    return ssh_cause(node, "Host key verification failed.")


def _applied_nodes(outputs: Mapping[str, Any]) -> list[str]:
    nodes = outputs.get("nodes")
    return [str(n.get("name")) for n in nodes] if isinstance(nodes, list) else []


def _setup_state(outcome: NodeOutcome, apply_running: bool) -> NodeSetupState:
    if outcome.complete:
        return NodeSetupState(outcome.ok_digest)
    if outcome.status == "started" and apply_running:
        why = f"setup is running now, started at version {outcome.version}"
    else:
        why = outcome.describe()
    return NodeSetupState(outcome.ok_digest, why)


_FROM_NODE = {"ok": "ok", "failed": "failed", "interrupted": "interrupted", "running": "started"}


def _with_node_records(
    outputs: Mapping[str, Any], target: Target, record: OutcomeRecord | None, reporter: Reporter,
    host_keys_changed: list[str],
) -> OutcomeRecord | None:
    """The outcome record corrected by what each node says of itself (plan --refresh).

    A node's own record wins: setup that went on running after Styx was killed may have
    finished since. An unreachable node keeps the backend's record, and the plan says so;
    a node whose host key is not the recorded one is added to `host_keys_changed`.
    """
    access = cluster_access(outputs, target.state_dir, target.ref.stack)
    reporter.info(f"reading the setup record of {len(access.nodes)} node(s) ...")
    nodes = dict(record.nodes) if record is not None else {}
    for name, own in read_node_records(access).items():
        known = nodes.get(name)
        version = known.version if known is not None else 0
        if own.status == "host-key":
            host_keys_changed.append(name)
            continue
        if own.status == "unreachable":
            reporter.info(f"node {name} is unreachable ({own.message}): its recorded "
                          "setup outcome stands")  # fmt: skip
            continue
        if own.status == "none":
            nodes.pop(name, None)
            continue
        status = _FROM_NODE.get(own.status, "interrupted")
        if known is not None and (known.status, known.ok_digest) == (status, own.ok_digest or None):
            continue  # the node agrees with the record
        nodes[name] = NodeOutcome(
            status=status,  # type: ignore[arg-type]
            version=version,
            digest=own.digest,
            ok_digest=own.ok_digest or None,
            message="as the node itself records it",
        )
    return OutcomeRecord(nodes) if nodes or record is not None else None


def _cluster_changes(
    target: Target, graph: ResourceGraph, previous: Mapping[str, Any], refresh: bool
) -> list[NodeChange]:
    """Node-level changes of the cluster as a whole: its autostop, and its agent."""
    found = []
    before = previous.get("autostop")
    before = dict(before) if isinstance(before, Mapping) and before else None
    after = dict(graph.autostop) if graph.autostop else None
    if before != after:
        cost = graph.hourly_cost
        found.append(NodeChange(
            "autostop",
            f"autostop: {describe_autostop(before)} -> {describe_autostop(after)}; "
            f"{autostop_meaning(after, cost)} (the head's agent is re-configured, no setup)",
            (graph.nodes[0],),
        ))  # fmt: skip
    if refresh:
        agent = _agent_change(target, previous)
        if agent is not None:
            found.append(agent)
    return found


def _agent_change(target: Target, previous: Mapping[str, Any]) -> NodeChange | None:
    """The agent (re)install the apply does on the head, as its agent says (refresh only)."""
    from styx.agent import agent_sha256
    from styx.jobs import AgentClient

    head = str(previous["nodes"][0].get("name", "head"))
    try:
        client = AgentClient(cluster_access(previous, target.state_dir, target.ref.stack))
        status = client.call("status", timeout=60)
    except (StyxError, subprocess.TimeoutExpired) as err:
        why = str(err).splitlines()[0] if str(err) else type(err).__name__
        return NodeChange("agent", f"agent: the head does not answer ({why}); the apply "
                          "installs and starts it once the nodes run", (head,))  # fmt: skip
    shipped = agent_sha256()
    if not status.get("running"):
        return NodeChange("agent", "agent: not running on the head; started again (its queue "
                          "is kept)", (head,))  # fmt: skip
    running = str(status.get("daemon_sha256") or "")
    if running != shipped:
        return NodeChange("agent", f"agent: the head runs another version ({running[:12]}); "
                          f"upgraded to {shipped[:12]} (running jobs go on)", (head,))  # fmt: skip
    return None


def _autostop_warnings(target: Target, applied_nodes: list[str]) -> tuple[str, ...]:
    """What an autostop left on record, for the plan to say (the head being down)."""
    record = read_record(target.state_dir)
    if record is None or not applied_nodes:
        return ()
    if record.action == "down":
        return (f"{target.cluster} was torn down by autodown at {record.when} after "
                f"{record.idle_minutes:g} idle minutes: its nodes are gone, and this apply "
                "creates them again",)  # fmt: skip
    return (f"{target.cluster} was stopped by autostop at {record.when} after "
            f"{record.idle_minutes:g} idle minutes: `styx start` or `styx apply` starts it "
            "again (setup re-runs only where needed)",)  # fmt: skip


def setup_states(
    record: OutcomeRecord | None, apply_running: bool
) -> dict[str, NodeSetupState] | None:
    """Per node, what the outcome record says of its setup (None: nothing recorded)."""
    if record is None:
        return None
    return {name: _setup_state(o, apply_running) for name, o in record.nodes.items()}


def plan_target(
    target: Target, *, refresh: bool = False, reporter: Reporter | None = None
) -> Planned:
    """Preview `target` against its stack's recorded state (and, with refresh, reality)."""
    reporter = reporter or silent()
    graph = compile_target(target)
    ops = StackOps(open_stack(target.ref, program_for(graph)))
    reporter.info(f"planning {target.ref.qualified}{' (with refresh)' if refresh else ''} ...")
    holder = stack_holder(lock_path(target.state_dir), target.ref)
    # The recorded outputs are one more engine call; read them while the preview runs.
    with ThreadPoolExecutor(max_workers=2) as pool:
        recorded = pool.submit(ops.outputs)
        record = pool.submit(read_outcomes, target.ref)
        digest = pool.submit(setup_digest, node_work(target.spec, target.cluster))
        outcome = ops.preview(refresh=refresh)
        previous = recorded.result()
    steps, drift = steps_from_events(outcome.events)
    applied_fields = previous.get("node_fields")
    applied_nodes = _applied_nodes(previous)
    stored = outcomes = record.result()
    host_keys_changed: list[str] = []
    if refresh and applied_nodes:
        outcomes = _with_node_records(previous, target, stored, reporter, host_keys_changed)
    changes, setup_nodes = node_changes(
        applied_fields if isinstance(applied_fields, Mapping) else None,
        graph.fields.to_dict(),
        applied_nodes,
        graph.nodes,
        digest=digest.result(),
        setup_states=setup_states(outcomes, holder is not None),
    )
    if target.node_state == "stopped":
        changes, setup_nodes = (), ()  # `styx stop`: the nodes keep their setup, nothing runs
    elif applied_nodes:
        changes = (*changes, *_cluster_changes(target, graph, previous, refresh))
    warnings = (*graph.warnings, *_autostop_warnings(target, applied_nodes),
                *(host_key_message(n) for n in host_keys_changed))
    for lock in ops.engine_locks():
        warnings = (*warnings, f"the engine is updating the stack right now ({lock.describe()}): "
                    "this plan may be out of date when it ends")  # fmt: skip
    if holder is not None:
        warnings = (*warnings, f"the stack is locked by {holder}: an operation is in "
                    "progress, and this plan may be out of date when it ends")  # fmt: skip
    before = previous.get("hourly_cost")
    plan = Plan(
        project=target.ref.project,
        stack=target.ref.stack,
        cloud=graph.cloud,
        steps=steps,
        node_changes=changes,
        drift=drift,
        cost_before=float(before) if isinstance(before, int | float) else 0.0,
        cost_after=graph.hourly_cost,
        warnings=(*warnings, *job_warnings(target, steps, previous)),
        stack_version=outcome.stack_version,
        spec_hash=graph.spec_hash,
        git_commit=git_commit(target.spec.source),
        setup_nodes=setup_nodes,
    ).sorted()  # one order for every caller: the engine reports parallel steps in any order
    corrected = outcomes is not None and (stored is None or outcomes.nodes != stored.nodes)
    return Planned(target, graph, plan, ops, previous, refresh, outcomes, corrected,
                   tuple(host_keys_changed))  # fmt: skip
