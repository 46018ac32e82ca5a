"""What every cloud's program exports: the stack outputs that plan, status and nodes read back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from styx.graph import ResourceGraph

__all__ = ["export_cluster"]


def export_cluster(graph: ResourceGraph, nodes: pulumi.Output[list[Any]] | list[Any],
                   private_key_path: pulumi.Output[str],
                   extra: Mapping[str, Any] | None = None) -> None:
    """Export the graph's own record beside the nodes (name, rank, address, port, user,
    host_public_key, state, ports per node) and the path of the cluster's private key.

    `extra` are a cloud's own outputs, read back by that cloud's `node_outputs`.
    """
    pulumi.export("cloud", graph.cloud)
    pulumi.export("cluster", graph.cluster)
    pulumi.export("nodes", nodes)
    pulumi.export("private_key_path", private_key_path)
    pulumi.export("spec_hash", graph.spec_hash)
    pulumi.export("node_fields", graph.fields.to_dict())
    pulumi.export("hourly_cost", graph.hourly_cost)
    pulumi.export("autostop", dict(graph.autostop) if graph.autostop else None)
    for name, value in (extra or {}).items():
        pulumi.export(name, value)
