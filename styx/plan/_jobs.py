"""Jobs at risk: a change that replaces, stops or deletes a node running a job says so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from styx.plan._model import Action, Step

__all__ = ["RunningJob", "jobs_at_risk"]


@dataclass(frozen=True)
class RunningJob:
    """A job that runs (or sets up) now, on these nodes, since `started_at` (Unix seconds)."""

    id: int
    name: str
    started_at: float
    nodes: tuple[str, ...]


def _span(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _verb(step: Step) -> str | None:
    if step.action == Action.REPLACE:
        return "replaces"
    if step.action == Action.DELETE:
        return "deletes"
    if step.action == Action.UPDATE and any(
        c.path == "state" and c.new == "stopped" for c in step.changes
    ):
        return "stops"
    return None


def node_steps(steps: Sequence[Step], cluster: str) -> dict[str, str]:
    """Per node name, what the plan does to it that would kill its jobs (replaces, ...)."""
    found = {}
    for step in steps:
        verb = _verb(step)
        if verb and step.name.startswith(cluster + "-"):
            # AWS keeps a node's running/stopped state in a resource of its own, <node>-state.
            node = step.name[len(cluster) + 1 :]
            found[node.removesuffix("-state") if verb == "stops" else node] = verb
    return found


def jobs_at_risk(
    steps: Sequence[Step], cluster: str, jobs: Sequence[RunningJob], now: float
) -> tuple[str, ...]:
    """One warning per (node, job) that the plan's changes would kill."""
    hit = node_steps(steps, cluster)
    warnings = []
    for node, verb in hit.items():
        for job in jobs:
            if node in job.nodes:
                warnings.append(
                    f"{node} runs job {job.id} ({job.name}, running "
                    f"{_span(now - job.started_at)}): this change {verb} {node} and kills it"
                )
    return tuple(warnings)
