"""Tear a local cluster down by what the host holds, whatever the stack's state remembers.

An apply killed before the engine recorded its nodes, a checkpoint lost, a node folder
deleted by hand: the stack no longer knows every node, but the host does. The sweep stops
every node found under the cluster's folder or in its cgroups, removes the folders and
the key pair, releases the network entry, then looks again and names what is left.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from styx.clouds.local import _network, _procs, _sshd
from styx.errors import NodeError

__all__ = ["HostLeftovers", "find_leftovers", "host_clusters", "listen_address", "sweep_cluster"]


@dataclass(frozen=True)
class HostLeftovers:
    """What of a local cluster the host still holds."""

    nodes: tuple[str, ...]  # node folders, or node cgroups whose folder is gone
    processes: tuple[int, ...]
    folder: bool  # the cluster's folder exists
    network: str | None  # the block the registry still holds for it

    @property
    def empty(self) -> bool:
        return not (self.nodes or self.processes or self.folder or self.network)

    def describe(self) -> str:
        parts = []
        if self.nodes:
            parts.append(f"node(s) {', '.join(self.nodes)}")
        if self.processes:
            parts.append(f"{len(self.processes)} process(es) (pids {sorted(self.processes)})")
        if self.folder:
            parts.append("its folder")
        if self.network:
            parts.append(f"its network {self.network}")
        return ", ".join(parts) or "nothing"


def _cluster_dir(home: Path, cluster: str) -> Path:
    return home.expanduser().resolve() / "local" / cluster


def _node_roots(cluster_dir: Path) -> list[Path]:
    roots = {p for p in cluster_dir.iterdir() if p.is_dir() and p.name != "keys"} if (
        cluster_dir.is_dir()
    ) else set()
    # A node whose folder was deleted still has its cgroup, named after the folder.
    for cgroup in _procs.cluster_cgroups(cluster_dir):
        roots.add(cluster_dir / cgroup.name.split("-", 1)[1])
    return sorted(roots)


def host_clusters(home: Path) -> list[str]:
    """The local clusters this host holds folders of, recorded in a stack or not."""
    local = home.expanduser().resolve() / "local"
    return sorted(p.name for p in local.iterdir() if p.is_dir()) if local.is_dir() else []


def listen_address(home: Path, cluster: str, node: str) -> tuple[str, int] | None:
    """Where a node's sshd listens, from the config Styx wrote for it."""
    config = _cluster_dir(home, cluster) / node / "etc" / "sshd_config"
    try:
        text = config.read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("ListenAddress "):
            host, _, port = line.split()[1].rpartition(":")
            return host, int(port)
    return None


def find_leftovers(home: Path, cluster: str) -> HostLeftovers:
    """What the host holds of the cluster now (nothing after a clean teardown)."""
    cluster_dir = _cluster_dir(home, cluster)
    roots = _node_roots(cluster_dir)
    pids: set[int] = set()
    for root in roots:
        pids |= _procs.node_processes(root, _sshd.server_pid(root))
    registry = home.expanduser().resolve() / "local" / "networks.json"
    network = _network.registered_network(registry, cluster) if registry.exists() else None
    return HostLeftovers(
        nodes=tuple(r.name for r in roots),
        processes=tuple(sorted(pids)),
        folder=cluster_dir.exists(),
        network=network,
    )


def sweep_cluster(home: Path, cluster: str) -> HostLeftovers:
    """Stop and remove everything of the cluster the host holds; what was found before.

    Raises NodeError naming what survived.
    """
    found = find_leftovers(home, cluster)
    cluster_dir = _cluster_dir(home, cluster)
    for root in _node_roots(cluster_dir):
        _sshd.delete_node(root)
    shutil.rmtree(cluster_dir / "keys", ignore_errors=True)
    registry = home.expanduser().resolve() / "local" / "networks.json"
    if registry.exists():
        _network.release_network(registry, cluster)
    shutil.rmtree(cluster_dir, ignore_errors=True)
    left = find_leftovers(home, cluster)
    if not left.empty:
        raise NodeError(f"local cluster {cluster}: tearing down left {left.describe()}")
    return found
