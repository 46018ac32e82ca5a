"""Nodes: reach a cluster's nodes over SSH and set them up and run jobs there with Ansible.

    run_setup(cluster, work, on_event)   playbooks/setup.yml: workdir, file_mounts, setup
    setup_digest(work)                   what setup depends on; setup re-runs when it changes

`ClusterAccess.from_outputs` reads the stack's `nodes` output; host keys from it go to a
known_hosts file and are always checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from styx._lazy import lazy_exports

if TYPE_CHECKING:
    from styx.nodes._digest import setup_digest
    from styx.nodes._env import setup_environment
    from styx.nodes._inventory import render_known_hosts
    from styx.nodes._model import (
        ClusterAccess,
        NodeAccess,
        NodeSetupResult,
        NodeWork,
        PlaybookResult,
        ProgressEvent,
        RevealsSecret,
        SetupStatus,
    )
    from styx.nodes._setup import NodeRecord, read_node_records, recorded_setup_digests, run_setup
    from styx.nodes._ssh import ssh_cause


__all__ = [
    "ClusterAccess",
    "NodeAccess",
    "NodeRecord",
    "NodeSetupResult",
    "NodeWork",
    "PlaybookResult",
    "ProgressEvent",
    "RevealsSecret",
    "SetupStatus",
    "read_node_records",
    "recorded_setup_digests",
    "render_known_hosts",
    "run_setup",
    "setup_digest",
    "setup_environment",
    "ssh_cause",
]

# Each name is imported from its module when first read (styx._lazy), so a command
# loads only the modules it uses.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "styx.nodes._digest": ("setup_digest",),
        "styx.nodes._env": ("setup_environment",),
        "styx.nodes._inventory": ("render_known_hosts",),
        "styx.nodes._model": (
            "ClusterAccess",
            "NodeAccess",
            "NodeSetupResult",
            "NodeWork",
            "PlaybookResult",
            "ProgressEvent",
            "RevealsSecret",
            "SetupStatus",
        ),
        "styx.nodes._setup": (
            "NodeRecord",
            "read_node_records",
            "recorded_setup_digests",
            "run_setup",
        ),
        "styx.nodes._ssh": ("ssh_cause",),
    },
)
