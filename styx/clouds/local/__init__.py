"""The local cloud: each node an sshd on its own loopback address, the host as the catalog.

A compile step calls `check_fits` and `check_file_mounts` (pure, at plan time) and, inside a
running Pulumi program, `declare_cluster`; it then exports
`LocalClusterResources.node_outputs()` and the key pair's `private_key_path`.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from styx.clouds.local._host import HostCatalog, check_file_mounts, check_fits, host_catalog
from styx.clouds.local._network import MAX_NODES, node_address, prefix_for
from styx.clouds.local._sweep import (
    HostLeftovers,
    find_leftovers,
    host_clusters,
    listen_address,
    sweep_cluster,
)
from styx.clouds.local.provider import (
    LocalKeyPair,
    LocalKeyPairArgs,
    LocalNetwork,
    LocalNetworkArgs,
    LocalNode,
    LocalNodeArgs,
)
from styx.errors import CloudError

__all__ = [
    "MAX_NODES",
    "NODE_PORT",
    "HostCatalog",
    "HostLeftovers",
    "LocalClusterPaths",
    "LocalClusterResources",
    "check_file_mounts",
    "check_fits",
    "declare_cluster",
    "find_leftovers",
    "host_catalog",
    "host_clusters",
    "listen_address",
    "node_address",
    "node_name",
    "sweep_cluster",
]

# Every node has its own address, so all can share one port. Not 22: a host sshd bound to
# 0.0.0.0:22 would make every node's bind fail.
NODE_PORT = 2222


def node_name(rank: int) -> str:
    """A node's name from its rank, as SkyPilot names them: head, worker1, worker2, ..."""
    return "head" if rank == 0 else f"worker{rank}"


@dataclass(frozen=True)
class LocalClusterPaths:
    """Where a local cluster lives under STYX_HOME."""

    home: Path
    cluster: str

    @property
    def registry(self) -> Path:
        """The network registry shared by every local cluster of this STYX_HOME."""
        return self.home / "local" / "networks.json"

    @property
    def cluster_dir(self) -> Path:
        return self.home / "local" / self.cluster

    @property
    def key_dir(self) -> Path:
        return self.cluster_dir / "keys"

    def node_root(self, rank: int) -> Path:
        return self.cluster_dir / node_name(rank)


@dataclass(frozen=True)
class LocalClusterResources:
    """The Pulumi resources of one local cluster, for the program to export from."""

    network: LocalNetwork
    key_pair: LocalKeyPair
    nodes: tuple[LocalNode, ...]

    def node_outputs(self) -> pulumi.Output[list[dict[str, Any]]]:
        """Per node, the fields styx.nodes reads back (NodeAccess's), in rank order."""
        return pulumi.Output.all(
            *[
                pulumi.Output.all(
                    name=node.name,
                    rank=node.rank,
                    address=node.address,
                    port=node.port,
                    user=node.user,
                    host_public_key=node.host_public_key,
                    state=node.state,
                )
                for node in self.nodes
            ]
        ).apply(lambda nodes: [dict(n) for n in nodes])


def _address_in(rank: int) -> Callable[[str], str]:
    return lambda cidr: node_address(cidr, rank)


def declare_cluster(
    cluster_name: str,
    num_nodes: int,
    cpus: float | None,
    memory_gb: float | None,
    home: Path,
    *,
    user: str | None = None,
    port: int = NODE_PORT,
    state: str = "running",
    opts: pulumi.ResourceOptions | None = None,
) -> LocalClusterResources:
    """Declare a local cluster's network, key pair and nodes in the running Pulumi program.

    `home` is STYX_HOME as the program sees it; every path is passed to the providers as an
    input, because the engine's provider process does not inherit the program's environment.
    """
    if not 1 <= num_nodes <= MAX_NODES:
        raise CloudError(
            f"a local cluster has 1 to {MAX_NODES} nodes, not {num_nodes}", cloud="local"
        )
    paths = LocalClusterPaths(home=home.expanduser().resolve(), cluster=cluster_name)
    network = LocalNetwork(
        f"{cluster_name}-network",
        LocalNetworkArgs(
            cluster=cluster_name, registry=str(paths.registry), prefix=prefix_for(num_nodes)
        ),
        opts,
    )
    key_pair = LocalKeyPair(
        f"{cluster_name}-keys",
        LocalKeyPairArgs(cluster=cluster_name, key_dir=str(paths.key_dir)),
        opts,
    )
    login = user or getpass.getuser()
    nodes = []
    for rank in range(num_nodes):
        name = node_name(rank)
        nodes.append(
            LocalNode(
                f"{cluster_name}-{name}",
                LocalNodeArgs(
                    cluster=cluster_name,
                    name=name,
                    rank=rank,
                    address=network.cidr.apply(_address_in(rank)),
                    port=port,
                    user=login,
                    root=str(paths.node_root(rank)),
                    authorized_key=key_pair.public_key,
                    cpus=cpus,
                    memory_gb=memory_gb,
                    state=state,
                ),
                pulumi.ResourceOptions.merge(
                    opts, pulumi.ResourceOptions(depends_on=[network, key_pair])
                ),
            )
        )
    return LocalClusterResources(network=network, key_pair=key_pair, nodes=tuple(nodes))
