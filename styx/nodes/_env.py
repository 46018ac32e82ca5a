"""The environment setup and run see on each node: the task's envs plus SkyPilot's variables."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from styx.errors import NodeError
from styx.nodes._model import ClusterAccess, NodeAccess

__all__ = ["check_names", "setup_environment"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_names(names: list[str], what: str) -> None:
    """Refuse names a shell could not export (they would break the node's script, not just it)."""
    bad = [n for n in names if not _NAME.match(n)]
    if bad:
        raise NodeError(f"{what} names must be shell variable names: {', '.join(sorted(bad))}")


def _cluster_info(cluster: ClusterAccess) -> str:
    return json.dumps(
        {
            "cluster_name": cluster.cluster,
            "cloud": cluster.cloud,
            "num_nodes": len(cluster.nodes),
            "node_ips": [n.address for n in cluster.nodes],
        },
        sort_keys=True,
    )


def _styx_variables(cluster: ClusterAccess, node: NodeAccess, task_id: str) -> dict[str, str]:
    """The STYX_* variables, the same for setup and the job."""
    return {
        "STYX_NODE_RANK": str(node.rank),
        "STYX_NODE_NAME": node.name,
        "STYX_NODE_IPS": "\n".join(n.address for n in cluster.nodes),
        "STYX_NUM_NODES": str(len(cluster.nodes)),
        "STYX_TASK_ID": task_id,
        "STYX_CLUSTER_NAME": cluster.cluster,
    }


def setup_environment(
    cluster: ClusterAccess, node: NodeAccess, envs: Mapping[str, str], task_id: str
) -> dict[str, str]:
    """What setup sees on `node`: the task's envs, then SkyPilot's setup variables and twins."""
    ips = "\n".join(n.address for n in cluster.nodes)
    ours = {
        "SKYPILOT_SETUP_NODE_RANK": str(node.rank),
        "SKYPILOT_SETUP_NODE_IPS": ips,
        "SKYPILOT_SETUP_NUM_NODES": str(len(cluster.nodes)),
        "SKYPILOT_NUM_NODES": str(len(cluster.nodes)),
        "SKYPILOT_TASK_ID": task_id,
        "SKYPILOT_CLUSTER_INFO": _cluster_info(cluster),
        **_styx_variables(cluster, node, task_id),
    }
    return {**envs, **ours}
