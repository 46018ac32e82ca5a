"""Jobs on an applied cluster: who may run (setup complete), the workdir brought up to date,
and a command typed on the command line (`styx exec CLUSTER 'COMMAND'`) as a job."""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from styx.engine import StackRef
from styx.errors import JobError, NodeError
from styx.jobs import AgentClient, Demand, JobRequest, WorkdirSync, sync_workdir
from styx.nodes import ClusterAccess
from styx.workflow._lock import lock_path, stack_lock
from styx.workflow._nodes import cluster_access, cluster_outputs
from styx.workflow._outcomes import read_outcomes
from styx.workflow._progress import Reporter, silent
from styx.workflow._target import Target, stack_dir

__all__ = [
    "CommandJob",
    "applied_workdir",
    "require_setup_complete",
    "submit_command",
    "sync_target_workdir",
]


def _require_setup(ref: StackRef, access: ClusterAccess) -> None:
    record = read_outcomes(ref)
    unready: list[str] = []
    for node in access.nodes:
        outcome = record.get(node.name) if record is not None else None
        if outcome is None:
            unready.append(f"{node.name} (setup never ran)")
        elif not outcome.complete:
            unready.append(f"{node.name} ({outcome.describe()})")
    if unready:
        raise NodeError(
            f"cluster {ref.stack} is not set up on {', '.join(unready)}: no job runs "
            "there; `styx apply` completes setup first",
            node=unready[0].split(" ")[0],
        )


def require_setup_complete(target: Target, access: ClusterAccess) -> None:
    """NodeError naming every node whose last setup did not complete: no job runs there."""
    _require_setup(target.ref, access)


def applied_workdir(outputs: Mapping[str, Any]) -> str | None:
    """The digest of the workdir the last apply recorded (None: the task had none)."""
    fields = outputs.get("node_fields")
    workdir = fields.get("workdir") if isinstance(fields, Mapping) else None
    return str(workdir) if workdir else None


def sync_target_workdir(
    target: Target, client: AgentClient, outputs: Mapping[str, Any],
    reporter: Reporter | None = None,
) -> WorkdirSync | None:  # fmt: skip
    """Bring the task's workdir to the nodes whose copy differs, before its job (as `sky
    exec` does); says what it sent. None when the task has no workdir."""
    workdir = target.spec.workdir
    if workdir is None:
        return None
    synced = sync_workdir(client, workdir, applied_workdir(outputs))
    (reporter or silent()).info(synced.describe(workdir))
    return synced


@dataclass(frozen=True)
class CommandJob:
    """A command typed on the command line, run as a job on an applied cluster.

    As in SkyPilot's `sky exec CLUSTER 'COMMAND'`: on `num_nodes` nodes (the head alone by
    default), in ~/sky_workdir when the cluster has a workdir, with the cluster's envs as
    last applied (`envs` win over them; `secrets` are given here, the stack never keeps
    their values).
    """

    command: str
    num_nodes: int = 1
    envs: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    demand: Demand = field(default_factory=Demand)
    name: str = "command"

    def request(self, outputs: Mapping[str, Any]) -> JobRequest:
        fields = outputs.get("node_fields")
        envs = fields.get("envs") if isinstance(fields, Mapping) else None
        applied_envs: Mapping[str, Any] = envs if isinstance(envs, Mapping) else {}
        return JobRequest(
            run=self.command,
            name=self.name,
            user=getpass.getuser(),
            num_nodes=self.num_nodes,
            demand=self.demand,
            envs={**{str(k): str(v) for k, v in applied_envs.items()}, **self.envs},
            secrets=dict(self.secrets),
            cwd="sky_workdir" if applied_workdir(outputs) else "",
        )


def submit_command(ref: StackRef, job: CommandJob) -> tuple[AgentClient, int]:
    """Queue `job` on the cluster `ref` records; the client used and the job's id.

    Under the stack's shared lock, as every job: never on a cluster whose setup is under way
    or did not finish (NodeError names the nodes), never where the agent is missing.
    """
    if not job.command.strip():
        raise JobError("the command to run is empty", cluster=ref.stack)
    with stack_lock(lock_path(stack_dir(ref)), ref.qualified, "exec", shared=True,
                    backend=ref):
        outputs = cluster_outputs(ref)
        client = AgentClient(cluster_access(outputs, stack_dir(ref), ref.stack))
        if job.num_nodes > len(client.access.nodes):
            raise JobError(f"the command asks for {job.num_nodes} nodes; cluster {ref.stack} "
                           f"has {len(client.access.nodes)}", cluster=ref.stack)  # fmt: skip
        _require_setup(ref, client.access)
        return client, client.submit(job.request(outputs))
