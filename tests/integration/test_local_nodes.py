"""Local nodes for real: sshd per node, reached with host key checking on, drift, clean teardown.

The providers are driven in-process, method by method, as the engine's plugin would call them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from styx.clouds.local import LocalClusterPaths, _procs, node_address, node_name
from styx.clouds.local._sshd import probe, server_pid
from styx.clouds.local.provider import (
    LocalKeyPairProvider,
    LocalNetworkProvider,
    LocalNodeProvider,
)

pytestmark = pytest.mark.integration

PORT = 2222


@dataclass
class Cluster:
    paths: LocalClusterPaths
    network: dict[str, Any]
    keys: dict[str, Any]
    nodes: list[dict[str, Any]]
    known_hosts: Path

    def ssh(
        self, node: dict[str, Any], command: str, known_hosts: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "ssh",
                "-F", "/dev/null",
                "-i", self.keys["private_key_path"],
                "-o", f"UserKnownHostsFile={known_hosts or self.known_hosts}",
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "StrictHostKeyChecking=yes",
                "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes",
                "-p", str(node["port"]),
                f"{node['user']}@{node['address']}",
                command,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )  # fmt: skip


def write_known_hosts(path: Path, nodes: list[dict[str, Any]]) -> None:
    path.write_text(
        "".join(f"[{n['address']}]:{n['port']} {n['host_public_key']}\n" for n in nodes)
    )


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    # A space in the path proves sshd_config and the session wrapper quote it.
    home = tmp_path / "styx home"
    paths = LocalClusterPaths(home=home, cluster="pair")
    net = LocalNetworkProvider().create({"cluster": "pair", "registry": str(paths.registry)})
    keys = LocalKeyPairProvider().create({"cluster": "pair", "key_dir": str(paths.key_dir)})
    assert net.outs is not None and keys.outs is not None
    nodes = []
    for rank in range(2):
        created = LocalNodeProvider().create(
            {
                "cluster": "pair",
                "name": node_name(rank),
                "rank": rank,
                "address": node_address(net.outs["cidr"], rank),
                "port": PORT,
                "user": os.environ.get("USER") or __import__("getpass").getuser(),
                "root": str(paths.node_dir(node_name(rank))),
                "authorized_key": keys.outs["public_key"],
                "state": "running",
            }
        )
        assert created.outs is not None
        nodes.append(created.outs)
    known_hosts = tmp_path / "known_hosts"
    write_known_hosts(known_hosts, nodes)
    made = Cluster(paths, net.outs, keys.outs, nodes, known_hosts)
    yield made
    for node in made.nodes:
        LocalNodeProvider().delete("", node)
    LocalKeyPairProvider().delete("", made.keys)
    LocalNetworkProvider().delete("", made.network)


def test_nodes_answer_with_their_own_host_keys_and_homes(cluster: Cluster) -> None:
    assert cluster.nodes[0]["host_public_key"] != cluster.nodes[1]["host_public_key"]
    for rank, node in enumerate(cluster.nodes):
        assert node["state"] == "running" and node["pid"] > 0
        done = cluster.ssh(node, 'echo "$HOME"; pwd; echo hi > ~/made-by-job')
        assert done.returncode == 0, done.stderr
        home = cluster.paths.node_dir(node_name(rank)) / "home"
        assert done.stdout.splitlines() == [str(home), str(home)]
        assert (home / "made-by-job").read_text() == "hi\n"


def test_host_key_checking_stays_on(cluster: Cluster, tmp_path: Path) -> None:
    # The head's key recorded for the worker: ssh must refuse to talk to the worker.
    wrong = tmp_path / "wrong_known_hosts"
    head, worker = cluster.nodes
    wrong.write_text(f"[{worker['address']}]:{worker['port']} {head['host_public_key']}\n")
    done = cluster.ssh(worker, "true", known_hosts=wrong)
    assert done.returncode == 255
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in done.stderr
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    assert cluster.ssh(worker, "true", known_hosts=empty).returncode == 255


def test_killed_server_reads_as_stopped_and_update_restarts_it(cluster: Cluster) -> None:
    provider = LocalNodeProvider()
    worker = cluster.nodes[1]
    os.kill(worker["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while server_pid(Path(worker["root"])) is not None and time.monotonic() < deadline:
        time.sleep(0.05)

    read = provider.read("pair/worker1", worker)
    assert read.id == "pair/worker1"
    assert read.outs is not None and read.outs["state"] == "stopped"
    assert read.outs["pid"] == 0
    assert read.inputs is not None and read.inputs["state"] == "stopped"

    wanted = {k: worker[k] for k in LocalNodeProvider._INPUTS if k in worker}
    diff = provider.diff("pair/worker1", read.outs, wanted)
    assert (diff.changes, diff.replaces) == (True, [])
    updated = provider.update("pair/worker1", read.outs, wanted)
    assert updated.outs is not None and updated.outs["state"] == "running"
    assert updated.outs["host_public_key"] == worker["host_public_key"]  # known_hosts still valid
    done = cluster.ssh(worker, "echo back")
    assert (done.returncode, done.stdout) == (0, "back\n")
    assert provider.diff("pair/worker1", updated.outs, wanted).changes is False


def test_stop_and_delete_leave_no_process_port_or_folder(cluster: Cluster) -> None:
    provider = LocalNodeProvider()
    head = cluster.nodes[0]
    root = Path(head["root"])
    # Jobs that try hard to outlive their session: a new session; nohup with its cwd elsewhere
    # (found by the inherited marker); a cleared environment (found by its cwd in the node).
    started = cluster.ssh(
        head,
        "setsid sleep 600 </dev/null >/dev/null 2>&1 & "
        "sh -c 'cd / && exec nohup sleep 601' </dev/null >/dev/null 2>&1 & "
        "env -i setsid sleep 602 </dev/null >/dev/null 2>&1 & echo started",
    )
    assert started.stdout == "started\n", started.stderr
    assert len(_procs.node_processes(root, server_pid(root))) >= 4

    wanted = {k: head[k] for k in LocalNodeProvider._INPUTS if k in head}
    stopped = provider.update("pair/head", head, {**wanted, "state": "stopped"})
    assert stopped.outs is not None and stopped.outs["state"] == "stopped"
    assert _procs.node_processes(root, None) == set()
    assert not probe(head["address"], head["port"])
    assert root.is_dir()  # stopped keeps the folder

    provider.delete("pair/head", stopped.outs)
    assert not root.exists()
    cluster.nodes = cluster.nodes[1:]
    worker = cluster.nodes[0]
    provider.delete("pair/worker1", worker)
    cluster.nodes = []
    assert _procs.node_processes(Path(worker["root"]), None) == set()
    assert not probe(worker["address"], worker["port"])
    LocalKeyPairProvider().delete("", cluster.keys)
    LocalNetworkProvider().delete("", cluster.network)
    assert not cluster.paths.cluster_dir.exists()
    assert LocalNetworkProvider().read("", cluster.network).id is None
    # Idempotent teardown: the fixture's own cleanup must not fail on what is gone.
