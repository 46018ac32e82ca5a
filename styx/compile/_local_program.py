"""The local cloud's inline program: declare the graph's cluster and export what the nodes need."""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from styx.clouds.local import declare_cluster
from styx.compile._graph import ResourceGraph
from styx.home import styx_home

__all__ = ["build_local_program"]


def build_local_program(graph: ResourceGraph) -> Callable[[], None]:
    """A program for the engine; STYX_HOME is read now, in the process that plans."""
    nodes = [r for r in graph.resources if r.kind == "styx-local:Node"]
    head = nodes[0].args
    home = styx_home()

    def program() -> None:
        cluster = declare_cluster(
            graph.cluster, len(nodes), head.get("cpus"), head.get("memory_gb"), home
        )
        pulumi.export("cloud", graph.cloud)
        pulumi.export("cluster", graph.cluster)
        pulumi.export("nodes", cluster.node_outputs())
        pulumi.export("private_key_path", cluster.key_pair.private_key_path)
        pulumi.export("spec_hash", graph.spec_hash)
        pulumi.export("node_fields", graph.fields.to_dict())
        pulumi.export("hourly_cost", graph.hourly_cost)
        pulumi.export("autostop", dict(graph.autostop) if graph.autostop else None)

    return program
