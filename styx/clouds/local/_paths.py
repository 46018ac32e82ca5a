"""Where a local cluster lives under STYX_HOME: its network registry, keys and node folders.

The resources' inputs name these paths relative to STYX_HOME ("local/hello/head"), resolved
by the provider against the STYX_HOME of the machine it runs on (styx/clouds/_home.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["LocalClusterPaths"]


@dataclass(frozen=True)
class LocalClusterPaths:
    """Where a local cluster lives under STYX_HOME."""

    home: Path
    cluster: str

    @property
    def registry(self) -> Path:
        """The network registry shared by every local cluster of this STYX_HOME."""
        return self.home / "local" / "networks.json"

    @property
    def cluster_dir(self) -> Path:
        return self.home / "local" / self.cluster

    @property
    def key_dir(self) -> Path:
        return self.cluster_dir / "keys"

    def node_dir(self, name: str) -> Path:
        """A node's own root folder, by the node's name."""
        return self.cluster_dir / name

