"""Make a plan: compile the target, preview it on its stack, diff the node-level fields."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from styx.compile import ResourceGraph
from styx.engine import StackOps, open_stack
from styx.plan import Plan, node_changes, steps_from_events
from styx.workflow._build import compile_target, program_for
from styx.workflow._jobs import job_warnings
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


def _applied_nodes(outputs: Mapping[str, Any]) -> list[str]:
    nodes = outputs.get("nodes")
    return [str(n.get("name")) for n in nodes] if isinstance(nodes, list) else []


def plan_target(
    target: Target, *, refresh: bool = False, reporter: Reporter | None = None
) -> Planned:
    """Preview `target` against its stack's recorded state (and, with refresh, reality)."""
    reporter = reporter or silent()
    graph = compile_target(target)
    ops = StackOps(open_stack(target.ref, program_for(graph)))
    reporter.info(f"planning {target.ref.qualified}{' (with refresh)' if refresh else ''} ...")
    # The recorded outputs are one more engine call; read them while the preview runs.
    with ThreadPoolExecutor(max_workers=1) as pool:
        recorded = pool.submit(ops.outputs)
        outcome = ops.preview(refresh=refresh)
        previous = recorded.result()
    steps, drift = steps_from_events(outcome.events)
    applied_fields = previous.get("node_fields")
    changes, setup_nodes = node_changes(
        applied_fields if isinstance(applied_fields, Mapping) else None,
        graph.fields.to_dict(),
        _applied_nodes(previous),
        graph.nodes,
    )
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
        warnings=graph.warnings + job_warnings(target, steps, previous),  # issue 12
        stack_version=outcome.stack_version,
        spec_hash=graph.spec_hash,
        git_commit=git_commit(target.spec.source),
        setup_nodes=setup_nodes,
    )
    return Planned(target, graph, plan, ops, previous, refresh)
