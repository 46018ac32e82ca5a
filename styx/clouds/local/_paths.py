"""Where a local cluster lives under STYX_HOME: its network registry, keys and node folders.

The resources' inputs name these paths relative to STYX_HOME ("local/hello/head"), resolved
by the provider against the STYX_HOME of the machine it runs on: a stack's inputs then do
not depend on whose home applied it, so a second machine's plan of the same task is "No
changes". Stacks recorded before hold absolute paths; those still resolve to themselves.
"""

from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass
from pathlib import Path

from styx.home import styx_home

__all__ = ["LocalClusterPaths", "home_id", "home_path", "same_place"]


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


def home_path(value: str) -> Path:
    """A path input as a path on this machine: relative ones are under this STYX_HOME."""
    path = Path(value)
    return path if path.is_absolute() else styx_home().expanduser().resolve() / path


def same_place(old: object, new: object) -> bool:
    """Whether two path inputs name the same place on this machine (an old absolute input
    and its new relative form do: that is a one-time update, not a new resource)."""
    if not isinstance(old, str) or not isinstance(new, str):
        return old == new
    return home_path(old) == home_path(new)


def home_id() -> str:
    """This machine's STYX_HOME, as a short id recorded beside what it made (an output)."""
    where = f"{socket.gethostname()}\0{styx_home().expanduser().resolve()}"
    return hashlib.sha256(where.encode()).hexdigest()[:16]
