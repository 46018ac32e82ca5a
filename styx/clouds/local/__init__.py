"""The local cloud: each node an sshd on its own loopback address, the host as the catalog.

`CLOUD` is what the cloud table hands out (see styx.clouds). This package's modules stay
free of Pulumi except `provider` (the dynamic providers, run by the engine's plugin) and
`_program` (the program that declares a graph with them), which load only when used.
"""

from __future__ import annotations

from styx.clouds.local._cloud import Local
from styx.clouds.local._graph import NODE_PORT, compile_local
from styx.clouds.local._host import HostCatalog, check_file_mounts, check_fits, host_catalog
from styx.clouds.local._network import MAX_NODES, node_address
from styx.clouds.local._paths import LocalClusterPaths
from styx.graph import node_name

__all__ = [
    "CLOUD",
    "MAX_NODES",
    "NODE_PORT",
    "HostCatalog",
    "Local",
    "LocalClusterPaths",
    "check_file_mounts",
    "check_fits",
    "compile_local",
    "host_catalog",
    "node_address",
    "node_name",
]

CLOUD = Local()
