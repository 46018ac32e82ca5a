"""The agent for real: installed on a 2-node local cluster (real sshd), jobs run through it.

One cluster serves the whole module (made once with the local cloud's providers, as the
engine's plugin would call them); each test uses jobs of its own.
"""

from __future__ import annotations

import getpass
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from styx.agent import agent as agent_module
from styx.agent import agent_sha256
from styx.clouds.local import LocalClusterPaths, node_address, node_name
from styx.clouds.local.provider import (
    LocalKeyPairProvider,
    LocalNetworkProvider,
    LocalNodeProvider,
)
from styx.errors import JobError
from styx.jobs import AgentClient, AgentNode, Demand, JobRequest, install_agent, sync_logs
from styx.nodes import ClusterAccess

pytestmark = pytest.mark.integration

PORT = 2222
CLUSTER = "agentpair"
# SkyPilot's documented variables for `run` (docs/source/running-jobs/environment-variables.rst),
# less SKYPILOT_SERVE_REPLICA_ID, which only a SkyServe replica gets.
SKYPILOT_RUN_VARIABLES = {
    "SKYPILOT_NODE_RANK",
    "SKYPILOT_NODE_IPS",
    "SKYPILOT_NUM_NODES",
    "SKYPILOT_NUM_GPUS_PER_NODE",
    "SKYPILOT_TASK_ID",
    "SKYPILOT_CLUSTER_INFO",
}


@dataclass
class Cluster:
    paths: LocalClusterPaths
    network: dict[str, Any]
    keys: dict[str, Any]
    nodes: list[dict[str, Any]]
    access: ClusterAccess
    agent_nodes: list[AgentNode]
    client: AgentClient

    def head_home(self) -> Path:
        return self.paths.node_dir(node_name(0)) / "home"


def agent_nodes(nodes: list[dict[str, Any]]) -> list[AgentNode]:
    return [
        AgentNode(
            name=n["name"], rank=int(n["rank"]), address=n["address"], port=int(n["port"]),
            user=n["user"], ip=n["address"], host_public_key=n["host_public_key"], cpus=2,
        )
        for n in nodes
    ]  # fmt: skip


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # A short folder: the connection master's socket path must fit in 107 bytes.
    home = Path(tempfile.mkdtemp(prefix="sx-", dir="/tmp"))
    paths = LocalClusterPaths(home=home, cluster=CLUSTER)
    net = LocalNetworkProvider().create({"cluster": CLUSTER, "registry": str(paths.registry)})
    keys = LocalKeyPairProvider().create({"cluster": CLUSTER, "key_dir": str(paths.key_dir)})
    assert net.outs is not None and keys.outs is not None
    nodes = []
    for rank in range(2):
        created = LocalNodeProvider().create(
            {
                "cluster": CLUSTER,
                "name": node_name(rank),
                "rank": rank,
                "address": node_address(net.outs["cidr"], rank),
                "port": PORT,
                "user": getpass.getuser(),
                "root": str(paths.node_dir(node_name(rank))),
                "authorized_key": keys.outs["public_key"],
                "state": "running",
            }
        )
        assert created.outs is not None
        nodes.append(dict(created.outs))
    access = ClusterAccess.from_outputs(
        CLUSTER, nodes, Path(keys.outs["private_key_path"]), home / "stack"
    )
    client = AgentClient(access)
    made = Cluster(paths, net.outs, keys.outs, nodes, access, agent_nodes(nodes), client)
    install_agent(client, made.agent_nodes, {"cluster": CLUSTER, "cloud": "local"})
    yield made
    client.close()
    for node in made.nodes:
        LocalNodeProvider().delete("", node)
    LocalKeyPairProvider().delete("", made.keys)
    LocalNetworkProvider().delete("", made.network)
    shutil.rmtree(home, ignore_errors=True)


def marked(marker: str) -> list[int]:
    return agent_module.marked_pids(marker, os.getpid())


def wait_state(client: AgentClient, job_id: int, states: set[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.job(job_id).state
        if state in states:
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {states}; it is {state}")


def test_install_is_idempotent_and_upgrades_a_changed_agent(cluster: Cluster) -> None:
    info = {"cluster": CLUSTER, "cloud": "local"}
    again = install_agent(cluster.client, cluster.agent_nodes, info)
    assert again.copied_to == () and not again.daemon_started
    # An older agent on a node (another Styx version) is replaced and the daemon restarted.
    installed = cluster.head_home() / ".styx-agent" / "agent.py"
    installed.write_bytes(installed.read_bytes() + b"\n# older\n")
    older = cluster.client.call("start", "--restart")
    upgraded = install_agent(cluster.client, cluster.agent_nodes, info)
    assert upgraded.copied_to == ("head",) and upgraded.daemon_started
    assert upgraded.daemon_pid != older["pid"]
    assert (cluster.head_home() / ".styx-agent" / "cluster_key").stat().st_mode & 0o777 == 0o600


def test_a_submit_expecting_a_version_queues_only_on_that_daemon(cluster: Cluster) -> None:
    # exec's one round trip: the version check rides on the submit (issue 17).
    client, jobs_before = cluster.client, len(cluster.client.queue())
    assert client.submit_if_current(JobRequest(run="echo hi"), "0" * 64) is None
    assert len(client.queue()) == jobs_before  # an outdated agent queues nothing
    job_id = client.submit_if_current(JobRequest(run="echo current"), agent_sha256())
    assert job_id is not None and client.wait(job_id, timeout=60).state == "SUCCEEDED"
    # A job the agent refuses is an error, not "outdated".
    with pytest.raises(JobError, match="asks for 3 node"):
        client.submit_if_current(JobRequest(run="echo hi", num_nodes=3), agent_sha256())
    # No agent file on the head (a cluster set up before agents): None, then install.
    installed = cluster.head_home() / ".styx-agent" / "agent.py"
    hidden = installed.with_name("agent.py.hidden")
    installed.rename(hidden)
    try:
        assert client.submit_if_current(JobRequest(run="echo hi"), agent_sha256()) is None
    finally:
        hidden.rename(installed)


def test_a_job_runs_on_its_nodes_with_skypilots_environment(cluster: Cluster) -> None:
    run = (
        "env | grep -E '^(SKYPILOT|STYX)_' | sort > \"$HOME/env-$STYX_JOB_ID\"; "
        "echo rank $SKYPILOT_NODE_RANK"
    )
    job_id = cluster.client.submit(JobRequest(run=run, name="env", num_nodes=2))
    job = cluster.client.wait(job_id, timeout=60)
    assert job.state == "SUCCEEDED", job
    assert [(n.node, n.exit_code) for n in job.nodes] == [("head", 0), ("worker1", 0)]
    lines = sorted((line.node, line.text) for line in cluster.client.logs(job_id, follow=False))
    assert lines == [("head", "rank 0"), ("worker1", "rank 1")]
    ips = "\n".join(n["address"] for n in cluster.nodes)
    for rank in range(2):
        text = (cluster.paths.node_dir(node_name(rank)) / "home" / f"env-{job_id}").read_text()
        env = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        assert {k for k in env if k.startswith("SKYPILOT_")} >= SKYPILOT_RUN_VARIABLES
        assert env["SKYPILOT_NODE_RANK"] == str(rank) and env["STYX_NODE_RANK"] == str(rank)
        assert env["SKYPILOT_NUM_NODES"] == "2" and env["SKYPILOT_NUM_GPUS_PER_NODE"] == "0"
        assert env["SKYPILOT_TASK_ID"].startswith("sky-")
        assert env["SKYPILOT_TASK_ID"].endswith(f"_{CLUSTER}_{job_id}")
    # SKYPILOT_NODE_IPS spans lines: read it whole from the job itself.
    show = 'echo "$SKYPILOT_NODE_IPS" | tr "\\n" "|"; echo; echo "$SKYPILOT_CLUSTER_INFO"'
    ips_job = cluster.client.submit(JobRequest(run=show, num_nodes=2))
    assert cluster.client.wait(ips_job, timeout=60).ok
    out = [line.text for line in cluster.client.logs(ips_job, node="worker1", follow=False)]
    assert out[0] == ips.replace("\n", "|") + "|"
    assert json.loads(out[1])["cluster_name"] == CLUSTER


def test_follow_streams_until_the_end_and_secrets_are_masked(cluster: Cluster) -> None:
    request = JobRequest(
        run='for i in 1 2 3; do echo "step $i $TOKEN"; sleep 0.2; done; exit 3',
        secrets={"TOKEN": "hunter2-value"},
    )
    job_id = cluster.client.submit(request)
    lines = [line.text for line in cluster.client.logs(job_id)]
    assert lines == [f"step {i} [secret]" for i in (1, 2, 3)]
    job = cluster.client.job(job_id)
    assert job.state == "FAILED" and job.nodes[0].exit_code == 3
    log = cluster.head_home() / ".styx-agent" / "logs" / str(job_id) / "head.log"
    assert "hunter2" not in log.read_text() and log.stat().st_mode & 0o777 == 0o600


def test_fifo_one_at_a_time_and_a_small_job_runs_alongside(cluster: Cluster) -> None:
    big = JobRequest(run="sleep 2", num_nodes=2, demand=Demand(cpus=1.5))
    ids = [cluster.client.submit(big) for _ in range(3)]
    small = cluster.client.submit(JobRequest(run="sleep 0.2", demand=Demand(cpus=0.5)))
    assert cluster.client.wait(small, timeout=30).ok
    seen: list[dict[int, str]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        states = {j.id: j.state for j in cluster.client.queue(ids)}
        seen.append(states)
        assert sum(s in ("RUNNING", "SETTING_UP") for s in states.values()) <= 1, states
        if all(s == "SUCCEEDED" for s in states.values()):
            break
        time.sleep(0.05)
    jobs = cluster.client.queue(ids)
    assert [j.state for j in jobs] == ["SUCCEEDED"] * 3
    # FIFO: each started after the one before it ended; the small job did not wait for them.
    for before, after in itertools.pairwise(jobs):
        assert before.ended_at is not None and after.started_at is not None
        assert after.started_at >= before.ended_at
    small_job = cluster.client.job(small)
    assert small_job.started_at is not None and jobs[0].ended_at is not None
    assert small_job.started_at < jobs[0].ended_at
    assert any(states[ids[1]] == "PENDING" and states[ids[0]] == "RUNNING" for states in seen)


def test_cancel_ends_every_process_of_the_job_daemons_included(cluster: Cluster) -> None:
    run = "setsid sleep 600 < /dev/null > /dev/null 2>&1 & echo started; sleep 600"
    job_id = cluster.client.submit(JobRequest(run=run, num_nodes=2))
    wait_state(cluster.client, job_id, {"RUNNING"})
    marker = f"{CLUSTER}:{job_id}"
    deadline = time.monotonic() + 30
    while len(marked(marker)) < 4 and time.monotonic() < deadline:  # bash + sleep + setsid sleep
        time.sleep(0.05)
    assert len(marked(marker)) >= 4
    assert cluster.client.cancel([job_id]) == [job_id]
    assert marked(marker) == []
    job = cluster.client.wait(job_id, timeout=30)
    assert job.state == "CANCELLED"


def test_cancel_all_cancels_pending_jobs_too(cluster: Cluster) -> None:
    whole = Demand(cpus=2)
    blocker = cluster.client.submit(JobRequest(run="sleep 600", num_nodes=2, demand=whole))
    waiting = cluster.client.submit(JobRequest(run="echo never", num_nodes=2, demand=whole))
    wait_state(cluster.client, blocker, {"RUNNING"})
    assert cluster.client.job(waiting).state == "PENDING"
    assert sorted(cluster.client.cancel(every=True)) == [blocker, waiting]
    assert cluster.client.job(waiting).state == "CANCELLED"
    assert marked(f"{CLUSTER}:{blocker}") == []


def test_a_job_outlives_the_client_that_followed_it(cluster: Cluster) -> None:
    ticks = "for i in 1 2 3 4 5; do echo tick $i; sleep 0.3; done"
    job_id = cluster.client.submit(JobRequest(run=ticks, num_nodes=2))
    follower = subprocess.Popen(
        cluster.client.argv(f'python3 "$HOME/.styx-agent/agent.py" logs {job_id} --follow'),
        stdout=subprocess.PIPE,
    )
    assert follower.stdout is not None
    follower.stdout.readline()
    follower.kill()
    follower.wait()
    job = cluster.client.wait(job_id, timeout=60)
    assert job.state == "SUCCEEDED" and [n.exit_code for n in job.nodes] == [0, 0]
    synced = sync_logs(cluster.client, job_id)
    assert (synced / "worker1.log").read_text().splitlines() == [f"tick {i}" for i in range(1, 6)]
    assert (synced / "head.log").stat().st_mode & 0o777 == 0o600


def test_activity_says_when_the_cluster_was_last_busy(cluster: Cluster) -> None:
    job_id = cluster.client.submit(JobRequest(run="true"))
    job = cluster.client.wait(job_id, timeout=60)
    deadline = time.monotonic() + 10
    activity = cluster.client.activity()
    while activity["jobs_active"] and time.monotonic() < deadline:
        time.sleep(0.1)
        activity = cluster.client.activity()
    assert activity["jobs_active"] == 0 and activity["jobs_pending"] == 0
    assert job.ended_at is not None and activity["last_job_end"] >= job.ended_at
    assert activity["last_submit"] >= job.submitted_at
    assert activity["daemon_heartbeat"] >= job.submitted_at


def test_a_job_whose_node_died_is_failed_with_the_reason(cluster: Cluster) -> None:
    job_id = cluster.client.submit(JobRequest(run="sleep 600", num_nodes=2))
    wait_state(cluster.client, job_id, {"RUNNING"})
    time.sleep(0.5)
    worker = cluster.nodes[1]
    stopped = LocalNodeProvider().update("", worker, {**worker, "state": "stopped"})
    assert stopped.outs is not None
    job = cluster.client.wait(job_id, timeout=60)
    assert job.state == "FAILED"
    # The job failed fast: its part on the head was ended too, not left to run for 600 s.
    assert marked(f"{CLUSTER}:{job_id}") == []
    assert job.reason is not None and job.reason.startswith("worker1: node lost")
    cluster.client.cancel([job_id])
    started = LocalNodeProvider().update("", stopped.outs, {**worker, "state": "running"})
    assert started.outs is not None
    cluster.nodes[1] = dict(started.outs)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
