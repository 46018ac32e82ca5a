"""Benchmark: the agent on a warm 2-node local cluster: submit to running, queue/logs/cancel.

Each figure is the median of N runs. Ratios are against a bare round trip measured in the
same run (`ssh head true` over the same shared connection), so they compare across machines:
what the agent adds on top of reaching the head at all.

    submitted -> started    the agent's own clock: the job was queued, then its launchers ran
    submit -> first output  the client's clock: submit call until the job's first line arrives
                            through `logs --follow` (the honest end-to-end figure)

    python bench/agent.py [--repeat N]
"""

from __future__ import annotations

import argparse
import getpass
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from styx.clouds.local import LocalClusterPaths, node_address, node_name
from styx.clouds.local.provider import (
    LocalKeyPairProvider,
    LocalNetworkProvider,
    LocalNodeProvider,
)
from styx.jobs import AgentClient, AgentNode, JobRequest, install_agent
from styx.nodes import ClusterAccess

CLUSTER = "benchagent"


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def make_cluster(
    home: Path,
) -> tuple[AgentClient, list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    paths = LocalClusterPaths(home=home, cluster=CLUSTER)
    net = LocalNetworkProvider().create({"cluster": CLUSTER, "registry": str(paths.registry)})
    keys = LocalKeyPairProvider().create({"cluster": CLUSTER, "key_dir": str(paths.key_dir)})
    assert net.outs is not None and keys.outs is not None
    nodes = []
    for rank in range(2):
        made = LocalNodeProvider().create({
            "cluster": CLUSTER, "name": node_name(rank), "rank": rank,
            "address": node_address(net.outs["cidr"], rank), "port": 2222,
            "user": getpass.getuser(), "root": str(paths.node_root(rank)),
            "authorized_key": keys.outs["public_key"], "state": "running",
        })  # fmt: skip
        assert made.outs is not None
        nodes.append(dict(made.outs))
    access = ClusterAccess.from_outputs(
        CLUSTER, nodes, Path(keys.outs["private_key_path"]), home / "stack"
    )
    client = AgentClient(access)
    agent_nodes = [
        AgentNode(n["name"], n["rank"], n["address"], n["port"], n["user"], n["address"],
                  n["host_public_key"], cpus=4)
        for n in nodes
    ]  # fmt: skip
    install_agent(client, agent_nodes, {"cluster": CLUSTER, "cloud": "local"})
    return client, nodes, net.outs, keys.outs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs per figure")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="sxb-", dir="/tmp"))
    client, nodes, net, keys = make_cluster(home)
    try:
        client.queue()  # warm: the shared connection is up
        bare = [timed(lambda: client.run(["true"])) for _ in range(args.repeat)]
        started, first_output, submit_rt = [], [], []
        for _ in range(args.repeat):
            begin = time.perf_counter()
            job_id = client.submit(JobRequest(run="echo up", num_nodes=2))
            submit_rt.append(time.perf_counter() - begin)
            next(iter(client.logs(job_id)))
            first_output.append(time.perf_counter() - begin)
            job = client.wait(job_id)
            assert job.ok and job.started_at is not None
            started.append(job.started_at - job.submitted_at)
        queue = [timed(client.queue) for _ in range(args.repeat)]
        logs = [timed(lambda: list(client.logs(job_id, follow=False))) for _ in range(args.repeat)]
        cancel = []
        for _ in range(args.repeat):
            running = client.submit(JobRequest(run="sleep 600", num_nodes=2))
            while client.job(running).state != "RUNNING":
                time.sleep(0.02)
            cancel.append(timed(partial(client.cancel, [running])))
    finally:
        client.close()
        for node in nodes:
            LocalNodeProvider().delete("", node)
        LocalKeyPairProvider().delete("", keys)
        LocalNetworkProvider().delete("", net)
        shutil.rmtree(home, ignore_errors=True)
    base = median(bare)
    print(f"bare ssh round trip (baseline)      : {base * 1000:7.1f} ms")
    for label, values in (
        ("submit call", submit_rt),
        ("submitted -> started (agent clock)", started),
        ("submit -> first output (client)", first_output),
        ("queue", queue),
        ("logs (2 nodes, no follow)", logs),
        ("cancel (running, 2 nodes)", cancel),
    ):
        value = median(values)
        print(f"{label:<36}: {value * 1000:7.1f} ms  ({value / base:5.1f}x baseline)")


if __name__ == "__main__":
    main()
