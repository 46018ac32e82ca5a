"""What the job client takes and gives back: requests, jobs, per-node exits, log lines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

__all__ = [
    "ACTIVE_STATES",
    "TERMINAL_STATES",
    "AgentNode",
    "Demand",
    "Job",
    "JobNodeExit",
    "JobRequest",
    "JobState",
    "LogLine",
]

JobState = Literal[
    "PENDING", "SETTING_UP", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "FAILED_SETUP"
]
TERMINAL_STATES: frozenset[str] = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "FAILED_SETUP"})
ACTIVE_STATES: frozenset[str] = frozenset({"SETTING_UP", "RUNNING"})


@dataclass(frozen=True)
class Demand:
    """What a job takes on each of its nodes; cpus None means SkyPilot's default, half a CPU."""

    cpus: float | None = None
    accelerators: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"cpus": self.cpus, "accelerators": dict(self.accelerators)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Demand:
        return cls(
            raw.get("cpus"), {str(k): float(v) for k, v in (raw.get("accelerators") or {}).items()}
        )

    def __str__(self) -> str:
        parts = [f"{self.cpus:g} CPU" if self.cpus is not None else "0.5 CPU"]
        parts += [f"{name}:{count:g}" for name, count in sorted(self.accelerators.items())]
        return ", ".join(parts)


@dataclass(frozen=True)
class JobRequest:
    """A job to queue: its run (and optional setup) script, environment and resources.

    `secrets` reach the job's environment and are masked as [secret] in its logs; the agent
    keeps them only until the job ends. `cwd` is relative to each node's home ("" = home).
    """

    run: str
    name: str = "job"
    user: str = "unknown"
    num_nodes: int = 1
    demand: Demand = field(default_factory=Demand)
    envs: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    setup: str | None = None
    cwd: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "name": self.name,
            "user": self.user,
            "num_nodes": self.num_nodes,
            "demand": self.demand.to_json(),
            "envs": dict(self.envs),
            "secrets": dict(self.secrets),
            "setup": self.setup,
            "cwd": self.cwd,
        }


@dataclass(frozen=True)
class JobNodeExit:
    """How the job ended on one of its nodes: an exit code, or why there is none."""

    node: str
    rank: int
    exit_code: int | None
    error: str | None


@dataclass(frozen=True)
class Job:
    """One job as the agent records it (times are Unix seconds)."""

    id: int
    name: str
    user: str
    num_nodes: int
    demand: Demand
    state: JobState
    reason: str | None
    task_id: str | None
    submitted_at: float
    started_at: float | None
    ended_at: float | None
    nodes: tuple[JobNodeExit, ...]

    @property
    def done(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def ok(self) -> bool:
        return self.state == "SUCCEEDED"

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Job:
        return cls(
            id=int(raw["id"]),
            name=str(raw["name"]),
            user=str(raw["user"]),
            num_nodes=int(raw["num_nodes"]),
            demand=Demand.from_json(raw.get("demand") or {}),
            state=cast(JobState, raw["state"]),
            reason=raw.get("reason"),
            task_id=raw.get("task_id"),
            submitted_at=float(raw["submitted_at"]),
            started_at=raw.get("started_at"),
            ended_at=raw.get("ended_at"),
            nodes=tuple(
                JobNodeExit(str(n["node"]), int(n["rank"]), n.get("exit_code"), n.get("error"))
                for n in raw.get("nodes") or ()
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "user": self.user,
            "num_nodes": self.num_nodes,
            "demand": self.demand.to_json(),
            "state": self.state,
            "reason": self.reason,
            "task_id": self.task_id,
            "submitted_at": self.submitted_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "nodes": [
                {"node": n.node, "rank": n.rank, "exit_code": n.exit_code, "error": n.error}
                for n in self.nodes
            ],
        }


@dataclass(frozen=True)
class LogLine:
    """One line a job printed on one node (without its newline)."""

    node: str
    text: str


@dataclass(frozen=True)
class AgentNode:
    """A node as the agent reaches it from the head, with what it offers jobs.

    `address`/`port` are where the head's ssh connects (local: the loopback address; AWS: the
    private address inside the security group); `ip` is what SKYPILOT_NODE_IPS lists.
    cpus None lets the agent count the head's CPUs.
    """

    name: str
    rank: int
    address: str
    port: int
    user: str
    ip: str
    host_public_key: str
    cpus: float | None = None
    accelerators: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rank": self.rank,
            "address": self.address,
            "port": self.port,
            "user": self.user,
            "ip": self.ip,
            "cpus": self.cpus,
            "accelerators": dict(self.accelerators),
        }
