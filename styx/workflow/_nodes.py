"""From a stack's outputs and a spec to what the node layer needs: access and work."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from styx.errors import NodeError
from styx.nodes import ClusterAccess, NodeWork
from styx.spec import Spec

__all__ = ["cluster_access", "node_work"]


def _with_host_keys(nodes: list[Any], region: str) -> list[Any]:
    """AWS nodes export no host key: read each from the instance's console (an authenticated
    EC2 call), never trust-on-first-use, so host key checking stays on."""
    from styx.clouds.aws import wait_for_host_keys

    filled = []
    for node in nodes:
        if not node.get("host_public_key") and node.get("instance_id"):
            keys = wait_for_host_keys(str(node["instance_id"]), region)
            chosen = next((k for k in keys if k.startswith("ssh-ed25519")), keys[0])
            node = {**node, "host_public_key": chosen}
        filled.append(node)
    return filled


def cluster_access(outputs: Mapping[str, Any], state_dir: Path, stack: str) -> ClusterAccess:
    """How to reach the nodes, from the stack's recorded outputs."""
    nodes = outputs.get("nodes")
    key = outputs.get("private_key_path")
    if not isinstance(nodes, list) or not nodes or not isinstance(key, str):
        raise NodeError(f"stack {stack} has no nodes: run `styx apply` first")
    if outputs.get("cloud") == "aws":
        nodes = _with_host_keys(nodes, str(outputs.get("region")))
    return ClusterAccess.from_outputs(
        str(outputs.get("cluster", stack)),
        nodes,
        Path(key),
        state_dir,
        cloud=str(outputs.get("cloud", "local")),
    )


def node_work(spec: Spec, cluster: str) -> NodeWork:
    """The node-level half of a spec; secrets stay wrapped until the node layer sends them."""
    return NodeWork(
        task_id=cluster,
        envs=dict(spec.envs),
        secrets=dict(spec.secrets),
        file_mounts=dict(spec.file_mounts),
        workdir=spec.workdir,
        setup=spec.setup,
        run=spec.run,
    )
