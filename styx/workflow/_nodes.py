"""From a stack's outputs and a spec to what the node layer needs: access and work."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from styx.clouds import cloud_named
from styx.engine import StackRef, recorded_outputs
from styx.errors import NodeError, StackNotFoundError
from styx.nodes import ClusterAccess, NodeWork
from styx.spec import Spec

__all__ = ["cluster_access", "cluster_outputs", "node_work"]


def cluster_outputs(ref: StackRef) -> dict[str, Any]:
    """The stack's recorded outputs (where its nodes are), secret values masked.

    Read from the checkpoint itself where the backend is a folder (no engine process, no
    Automation API import: exec, logs, queue and cancel are the commands users repeat), else
    asked of the engine. StackNotFoundError when the cluster was never applied.
    """
    outputs = recorded_outputs(ref)
    if outputs is not None:
        return outputs
    from styx.engine import StackOps, open_stack

    try:
        return StackOps(open_stack(ref, create=False)).outputs()
    except StackNotFoundError as err:
        raise StackNotFoundError(
            f"cluster {ref.stack} does not exist: run `styx apply` first", stack=err.stack
        ) from err


def cluster_access(outputs: Mapping[str, Any], state_dir: Path, stack: str) -> ClusterAccess:
    """How to reach the nodes, from the stack's recorded outputs."""
    nodes = outputs.get("nodes")
    key = outputs.get("private_key_path")
    if not isinstance(nodes, list) or not nodes or not isinstance(key, str):
        raise NodeError(f"stack {stack} has no nodes: run `styx apply` first")
    cloud = cloud_named(str(outputs.get("cloud", "local")))
    return ClusterAccess.from_outputs(
        str(outputs.get("cluster", stack)),
        cloud.node_outputs(outputs),
        Path(key),
        state_dir,
        cloud=cloud.name,
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
        storage=dict(spec.storage),
    )
