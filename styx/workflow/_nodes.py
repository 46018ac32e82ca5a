"""From a stack's outputs and a spec to what the node layer needs: access and work."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from styx.errors import NodeError
from styx.nodes import ClusterAccess, NodeAccess, NodeWork
from styx.spec import Spec

__all__ = ["cluster_access", "node_work"]


def cluster_access(outputs: Mapping[str, Any], state_dir: Path, stack: str) -> ClusterAccess:
    """How to reach the nodes, from the stack's recorded outputs."""
    nodes = outputs.get("nodes")
    key = outputs.get("private_key_path")
    if not isinstance(nodes, list) or not nodes or not isinstance(key, str):
        raise NodeError(f"stack {stack} has no nodes: run `styx apply` first")
    return ClusterAccess(
        cluster=str(outputs.get("cluster", stack)),
        nodes=tuple(
            NodeAccess(
                name=str(n["name"]),
                rank=int(n["rank"]),
                address=str(n["address"]),
                port=int(n["port"]),
                user=str(n["user"]),
                host_public_key=str(n["host_public_key"]),
            )
            for n in sorted(nodes, key=lambda n: int(n["rank"]))
        ),
        private_key_path=Path(key),
        state_dir=state_dir,
    )


def node_work(spec: Spec, cluster: str) -> NodeWork:
    """The node-level part of a spec; secrets are revealed only here, on their way to nodes."""
    return NodeWork(
        cluster=cluster,
        envs=dict(spec.envs),
        secrets={name: secret.reveal() for name, secret in spec.secrets.items()},
        file_mounts=dict(spec.file_mounts),
        workdir=spec.workdir,
        setup=spec.setup,
        run=spec.run,
    )
