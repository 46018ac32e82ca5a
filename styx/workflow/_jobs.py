"""Jobs on a cluster through its agent: install it after setup, reach it by cluster name, submit."""

from __future__ import annotations

import getpass
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from styx.agent import agent_sha256
from styx.clouds import cloud_named
from styx.engine import StackRef, default_backend_url
from styx.errors import JobError, NodeError
from styx.jobs import (
    ACTIVE_STATES,
    AgentClient,
    AgentInstall,
    AgentNode,
    AutostopConfig,
    Demand,
    Job,
    JobRequest,
    install_agent,
)
from styx.nodes import ClusterAccess
from styx.plan import RunningJob, Step, jobs_at_risk, node_steps
from styx.spec import Spec
from styx.workflow._autostop import read_record, record_path
from styx.workflow._exec import require_setup_complete, sync_target_workdir
from styx.workflow._lock import lock_path, stack_lock
from styx.workflow._nodes import cluster_access, cluster_outputs
from styx.workflow._progress import Reporter
from styx.workflow._target import PROJECT, Target, resolve_name, stack_dir

__all__ = [
    "cluster_client",
    "cluster_ref",
    "install_cluster_agent",
    "job_request",
    "job_warnings",
    "raise_for_job",
    "submit_job",
]


def _demand(spec: Spec) -> Demand:
    resources = spec.resources
    accelerators = {}
    if resources.accelerator is not None:
        accelerators[resources.accelerator.name] = resources.accelerator.count
    return Demand(resources.cpus.value if resources.cpus else None, accelerators)


def agent_nodes(outputs: Mapping[str, Any], access: ClusterAccess, spec: Spec) -> list[AgentNode]:
    """The nodes as the head's agent reaches them, with what each offers jobs.

    Inside the cluster the head connects to private addresses where the cloud has them (AWS);
    local nodes have only their loopback address. A node offers what the task asked per node.
    """
    raw = {str(n.get("name")): n for n in outputs.get("nodes") or [] if isinstance(n, Mapping)}
    offer = _demand(spec)
    nodes = []
    for node in access.nodes:
        private = str(raw.get(node.name, {}).get("private_address") or "")
        address, port = (private, 22) if private else (node.address, node.port)
        nodes.append(
            AgentNode(
                name=node.name,
                rank=node.rank,
                address=address,
                port=port,
                user=node.user,
                ip=address,
                host_public_key=node.host_public_key,
                cpus=offer.cpus,
                accelerators=offer.accelerators,
            )
        )
    return nodes


def install_cluster_agent(
    outputs: Mapping[str, Any], access: ClusterAccess, spec: Spec
) -> AgentInstall:
    """Install or upgrade the agent on the cluster the stack's outputs describe; start it.

    Autostop is the stack's as applied (its outputs), with the action its cloud gives.
    """
    info = {
        "cluster": access.cluster,
        "cloud": access.cloud,
        "region": outputs.get("region") or spec.resources.region,
        "zone": spec.resources.zone,
    }
    nodes = agent_nodes(outputs, access, spec)
    setting = outputs.get("autostop")
    setting = setting if isinstance(setting, Mapping) and setting else None
    cloud = cloud_named(access.cloud)
    action = cloud.autostop_action(access.cluster, [n.name for n in nodes],
                                   record_path(access.state_dir))  # fmt: skip
    autostop = AutostopConfig(setting, action if setting else None)
    return install_agent(AgentClient(access), nodes, info, autostop)


def cluster_ref(cluster: str, backend_url: str | None = None) -> StackRef:
    """The stack that holds a cluster of this name in the default (or given) backend."""
    return StackRef(PROJECT, cluster, backend_url or default_backend_url())


def _open_cluster(ref: StackRef) -> tuple[Mapping[str, Any], AgentClient]:
    outputs = cluster_outputs(ref)
    return outputs, AgentClient(cluster_access(outputs, stack_dir(ref), ref.stack))


def cluster_client(ref: StackRef) -> AgentClient:
    """A client of the agent on the cluster recorded in `ref`'s stack outputs."""
    return _open_cluster(ref)[1]


def job_request(spec: Spec, cluster: str) -> JobRequest:
    """The job a task's `run` makes: its nodes, resources, envs and secrets."""
    if not spec.run:
        raise JobError("the task has no run command", cluster=cluster)
    return JobRequest(
        run=spec.run,
        name=spec.name or cluster,
        user=getpass.getuser(),
        num_nodes=spec.num_nodes,
        demand=_demand(spec),
        envs=dict(spec.envs),
        secrets={name: secret.reveal() for name, secret in spec.secrets.items()},
        cwd="sky_workdir" if spec.workdir is not None else "",
    )


@contextmanager
def following_job(target: Target | StackRef) -> Iterator[None]:
    """Hold the stack's lock shared while a terminal follows a job it queued: apply and down
    then wait for the job being watched, as they do for any exec. A detached job holds
    nothing; the agent tracks it and the plan warns about it."""
    ref = target.ref if isinstance(target, Target) else target
    with stack_lock(lock_path(stack_dir(ref)), ref.qualified, "exec", shared=True,
                    backend=ref):
        yield


def command_for(target: Target, verb: str) -> str:
    """The command that does `verb` to the target's cluster, as the user would type it."""
    source = Path(target.spec.source)
    try:
        shown = str(source.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(source)  # outside the folder Styx runs in: the whole path
    command = f"styx {verb} {shown}"
    default = resolve_name(target.spec)
    return command if default == target.cluster else f"{command} -s {target.cluster}"


def require_running(target: Target, outputs: Mapping[str, Any]) -> None:
    """JobError when the cluster is stopped (by `styx stop` or autostop), with the way out."""
    nodes = [n for n in outputs.get("nodes") or [] if isinstance(n, Mapping)]
    record = read_record(target.state_dir)
    stopped = bool(nodes) and all(n.get("state") == "stopped" for n in nodes)
    if record is None and not stopped:
        return
    why = record.describe() if record is not None else "stopped by `styx stop`"
    if record is not None and record.action == "down":
        raise JobError(f"cluster {target.cluster} is down ({why}): bring it back with "
                       f"`{command_for(target, 'apply')}`", cluster=target.cluster)  # fmt: skip
    raise JobError(f"cluster {target.cluster} is stopped ({why}): start it with "
                   f"`{command_for(target, 'start')}`, then exec again",
                   cluster=target.cluster)  # fmt: skip


def submit_job(
    target: Target, client: AgentClient | None = None, *, reporter: Reporter | None = None
) -> tuple[AgentClient, int]:
    """Queue the target's `run` on its cluster; the client used and the job's id.

    Without a client given, the job is queued only if the agent runs this Styx's version
    (asked with the submit itself); when it is missing, stopped or another version (a cluster
    applied before this Styx, say) it is (re)installed first, then the job queued. A workdir that
    changed since it reached the nodes is synced first (`reporter` is told what was sent).
    """
    # Submitting shares the stack's lock with other jobs and excludes apply and down, so no
    # job is queued on a cluster whose setup is under way (the job itself outlives the lock).
    with stack_lock(lock_path(target.state_dir), target.ref.qualified, "exec", shared=True,
                    backend=target.ref):
        request = job_request(target.spec, target.cluster)
        if client is not None:
            require_setup_complete(target, client.access)
            outputs = _open_cluster(target.ref)[0] if target.spec.workdir is not None else {}
            sync_target_workdir(target, client, outputs, reporter)
            return client, client.submit(request)
        outputs, client = _open_cluster(target.ref)
        require_running(target, outputs)
        require_setup_complete(target, client.access)
        sync_target_workdir(target, client, outputs, reporter)
        # Queued only if the agent runs this Styx's version (one round trip); otherwise the
        # agent is (re)installed first, then the job queued.
        job_id = client.submit_if_current(request, agent_sha256())
        if job_id is None:
            install_cluster_agent(outputs, client.access, target.spec)
            job_id = client.submit(request)
        return client, job_id


_LAST_LINES = 10


def raise_for_job(client: AgentClient, job: Job) -> None:
    """JobError naming each node the job failed on, its exit code and its last lines."""
    if job.ok:
        return
    parts = []
    for node in job.nodes:
        if node.error is not None and node.error.startswith("stopped:"):
            continue  # ended by Styx because another node failed first
        if node.error is None and node.exit_code == 0:
            continue
        why = f"exit code {node.exit_code}" if node.error is None else node.error
        part = f"job {job.id} failed on {node.node} ({why})"
        tail = [line.text for line in client.logs(job.id, node=node.node, follow=False)]
        if tail:
            part += "\n" + "\n".join(f"  {line}" for line in tail[-_LAST_LINES:])
        parts.append(part)
    if not parts:
        parts.append(f"job {job.id} {job.state.lower()}: {job.reason or 'no reason given'}")
    raise JobError("\n".join(parts), cluster=client.access.cluster)


def job_warnings(
    target: Target, steps: Sequence[Step], outputs: Mapping[str, Any]
) -> tuple[str, ...]:
    """The plan's warnings for running jobs its changes would kill (asks the head's agent).

    Asked only when a change replaces, stops or deletes a node of an applied cluster. When
    the agent cannot answer, the plan says it cannot know, never that no job is at risk.
    """
    if not node_steps(steps, target.cluster) or not outputs.get("nodes"):
        return ()
    try:
        client = AgentClient(cluster_access(outputs, target.state_dir, target.ref.stack))
        jobs = client.queue()
    except (JobError, NodeError, subprocess.TimeoutExpired) as err:
        why = str(err).splitlines()[0] if str(err) else type(err).__name__
        return (
            f"the jobs on {target.cluster} are unknown ({why}): this change may kill a running job",
        )
    running = [
        RunningJob(
            job.id, job.name, job.started_at or job.submitted_at, tuple(n.node for n in job.nodes)
        )
        for job in jobs
        if job.state in ACTIVE_STATES
    ]
    return jobs_at_risk(steps, target.cluster, running, time.time())
