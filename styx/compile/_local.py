"""The local cloud's resource graph: a loopback network, a cluster key pair, one sshd per node."""

from __future__ import annotations

from styx.clouds.local import NODE_PORT, check_file_mounts, check_fits
from styx.compile._graph import ResourceDecl, ResourceGraph, node_fields, node_name, ref
from styx.errors import CloudError
from styx.spec import Spec

__all__ = ["compile_local"]


def compile_local(spec: Spec, cluster: str) -> ResourceGraph:
    """The graph for `spec` on this host; CloudError when one node cannot fit on it.

    Paths under STYX_HOME and the login user are not part of the graph (they differ per
    machine); the program adds them when it declares the resources. A node's address is
    host number rank+2 of the network's /24.
    """
    resources = spec.resources
    if resources.accelerator is not None:
        raise CloudError(
            f"the local cloud has no accelerators ({resources.accelerator} asked); "
            "use cloud: aws",
            cloud="local",
        )
    cpus = resources.cpus.value if resources.cpus else None
    memory = resources.memory.value if resources.memory else None
    warnings = [*spec.warnings, *check_fits(cpus, memory, spec.num_nodes)]
    if any(c.network_tier == "best" for c in (resources, *spec.candidates)):
        warnings.append("network_tier best is ignored on the local cloud: its nodes share "
                        "this host's loopback network")
    check_file_mounts(tuple(spec.file_mounts))  # a mount may not escape the node's home
    network, keys = f"{cluster}-network", f"{cluster}-keys"
    decls = [
        ResourceDecl("styx-local:Network", network, {"cluster": cluster}),
        ResourceDecl("styx-local:KeyPair", keys, {"cluster": cluster}),
    ]
    nodes = []
    for rank in range(spec.num_nodes):
        name = node_name(rank)
        nodes.append(name)
        decls.append(
            ResourceDecl(
                "styx-local:Node",
                f"{cluster}-{name}",
                {
                    "cluster": cluster,
                    "name": name,
                    "rank": rank,
                    "network": ref(network, "cidr"),
                    "host_number": rank + 2,
                    "port": NODE_PORT,
                    "authorized_key": ref(keys, "public_key"),
                    "cpus": cpus,
                    "memory_gb": memory,
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
    )
