"""The local cloud's resource graph: a loopback network, a cluster key pair, one sshd per node."""

from __future__ import annotations

from typing import TYPE_CHECKING

from styx.clouds._base import candidates_on
from styx.clouds.local._host import HostCatalog, check_file_mounts, check_fits
from styx.clouds.local._network import MAX_NODES, prefix_for
from styx.errors import CloudError
from styx.graph import ResourceDecl, ResourceGraph, node_fields, node_name, ref

if TYPE_CHECKING:
    from styx.spec import Resources, Spec

__all__ = ["KIND_KEY_PAIR", "KIND_NETWORK", "KIND_NODE", "NODE_PORT", "compile_local"]

KIND_NETWORK = "styx-local:Network"
KIND_KEY_PAIR = "styx-local:KeyPair"
KIND_NODE = "styx-local:Node"

# Every node has its own address, so all can share one port. Not 22: a host sshd bound to
# 0.0.0.0:22 would make every node's bind fail.
NODE_PORT = 2222


def _fitting(spec: Spec, host: HostCatalog | None) -> tuple[Resources, list[str]]:
    """The first candidate that fits on this host (all cost nothing), with its warnings.

    A node larger than the host cannot run at all; a cluster whose sum exceeds the host only
    runs slower. When no candidate fits, the first one's reason is the error.
    """
    candidates = candidates_on(spec, "local")
    if not candidates:
        raise CloudError("no candidate in `resources` can run on the local cloud", cloud="local")
    first_error: CloudError | None = None
    for resources in candidates:
        cpus = resources.cpus.value if resources.cpus else None
        memory = resources.memory.value if resources.memory else None
        try:
            return resources, check_fits(cpus, memory, spec.num_nodes, host)
        except CloudError as err:
            first_error = first_error or err
    assert first_error is not None
    raise first_error


def compile_local(spec: Spec, cluster: str, host: HostCatalog | None = None) -> ResourceGraph:
    """The graph for `spec` on this host; CloudError when no node can fit on it.

    Paths under STYX_HOME and the login user are not part of the graph (they differ per
    machine); the program adds them when it declares the resources. A node's address is
    the network's host number rank+2 (see `node_address`), so it follows from the graph.
    """
    if not 1 <= spec.num_nodes <= MAX_NODES:
        raise CloudError(
            f"a local cluster has 1 to {MAX_NODES} nodes, not {spec.num_nodes}",
            cloud="local", field="num_nodes",
        )
    resources, warnings = _fitting(spec, host)
    check_file_mounts((*spec.file_mounts, *spec.storage))  # none may escape the node's home
    network, keys = f"{cluster}-network", f"{cluster}-keys"
    decls = [
        ResourceDecl(KIND_NETWORK, network,
                     {"cluster": cluster, "prefix": prefix_for(spec.num_nodes)}),
        ResourceDecl(KIND_KEY_PAIR, keys, {"cluster": cluster}),
    ]
    nodes = []
    for rank in range(spec.num_nodes):
        name = node_name(rank)
        nodes.append(name)
        decls.append(
            ResourceDecl(
                KIND_NODE,
                f"{cluster}-{name}",
                {
                    "cluster": cluster,
                    "name": name,
                    "rank": rank,
                    "network": ref(network, "cidr"),
                    "port": NODE_PORT,
                    "authorized_key": ref(keys, "public_key"),
                    "cpus": resources.cpus.value if resources.cpus else None,
                    "memory_gb": resources.memory.value if resources.memory else None,
                    "state": "running",
                },
                depends_on=(network, keys),
            )
        )
    return ResourceGraph(
        cloud="local",
        cluster=cluster,
        resources=tuple(decls),
        nodes=tuple(nodes),
        fields=node_fields(spec),
        spec_hash=spec.fingerprint(),
        hourly_cost=0.0,
        warnings=tuple(warnings),
        autostop=resources.autostop.to_dict() if resources.autostop else None,
        ports=tuple(str(p) for p in resources.ports),
    )
