"""Carve one /24 of 127.0.0.0/8 per local cluster, recorded in a locked registry under STYX_HOME."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
from collections.abc import Iterator
from pathlib import Path

from styx.errors import CloudError

__all__ = [
    "MAX_NODES",
    "allocate_network",
    "capacity",
    "choose_network",
    "listening_networks",
    "node_address",
    "prefix_for",
    "registered_network",
    "release_network",
]

# 127.0.0.0/24 holds the host's own 127.0.0.1 (and systemd-resolved's .53); Debian puts the
# hostname at 127.0.1.1. Neither may ever be handed to a cluster.
_RESERVED = frozenset({"127.0.0.0/24", "127.0.1.0/24"})
# .0 is the network, .1 is left free like a gateway, the last address is broadcast-like:
# ranks start at .2 and stop one short of the end of the block.
_FIRST_HOST = 2
_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
# A cluster gets a /24 (253 nodes); a larger one a /23 or /22. Loopback addresses need no
# routing, so a block only has to be aligned and free.
_PREFIXES = (24, 23, 22)
MAX_NODES = (1 << (32 - _PREFIXES[-1])) - _FIRST_HOST - 1


def capacity(prefix: int) -> int:
    """How many nodes a block of this prefix length holds."""
    return (1 << (32 - prefix)) - _FIRST_HOST - 1


def prefix_for(num_nodes: int) -> int:
    """The longest prefix (smallest block) that holds `num_nodes` nodes."""
    for prefix in _PREFIXES:
        if num_nodes <= capacity(prefix):
            return prefix
    raise CloudError(f"a local cluster holds at most {MAX_NODES} nodes", cloud="local")


def _slash24s(network: ipaddress.IPv4Network) -> range:
    """The indices (within 127.0.0.0/8) of the /24s a network touches."""
    first = (int(network.network_address) - int(_LOOPBACK.network_address)) >> 8
    return range(first, first + max(1, network.num_addresses >> 8))


def _candidates(cluster: str, prefix: int) -> Iterator[ipaddress.IPv4Network]:
    """Every usable block of this size, starting at one derived from the cluster's name.

    Starting from a hash spreads clusters out, so a cluster re-created after its entry was lost
    (or one in another STYX_HOME) most likely lands on the same, still free, network.
    """
    count = 1 << (prefix - 8)
    size = 1 << (32 - prefix)
    start = int.from_bytes(hashlib.sha256(cluster.encode()).digest()[:4], "big") % count
    for step in range(count):
        index = (start + step) % count
        yield ipaddress.IPv4Network((int(_LOOPBACK.network_address) + index * size, prefix))


def choose_network(cluster: str, taken: set[str], prefix: int = 24) -> str:
    """The first candidate block for `cluster` that overlaps no other cluster's or listener's."""
    # Compare by the /24s each block covers: a set lookup per /24, not a scan of `taken`.
    used = {i for cidr in (*taken, *_RESERVED) for i in _slash24s(ipaddress.IPv4Network(cidr))}
    for block in _candidates(cluster, prefix):
        if used.isdisjoint(_slash24s(block)):
            return str(block)
    raise CloudError(f"no free /{prefix} left in 127.0.0.0/8 for a local cluster", cloud="local")


def listening_networks(proc_net_tcp: str) -> set[str]:
    """The loopback /24s in which something listens, from the text of /proc/net/tcp.

    Something else's server in a /24 (another tool, another STYX_HOME) means it is not ours to hand
    out, even though our registry has never heard of it.
    """
    found: set[str] = set()
    for line in proc_net_tcp.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3] != "0A":  # 0A is TCP_LISTEN
            continue
        address_hex = fields[1].split(":")[0]
        # /proc/net/tcp prints the address in host byte order; x86 and arm64 are little-endian.
        raw = bytes.fromhex(address_hex)[::-1]
        address = ipaddress.IPv4Address(raw)
        if address.is_loopback:
            found.add(str(ipaddress.IPv4Network(f"{address}/24", strict=False)))
    return found


def node_address(cidr: str, rank: int) -> str:
    """The loopback address of the node with this rank inside the cluster's block."""
    network = ipaddress.IPv4Network(cidr)
    if not 0 <= rank < capacity(network.prefixlen):
        raise CloudError(
            f"a local cluster in a /{network.prefixlen} holds at most "
            f"{capacity(network.prefixlen)} nodes",
            cloud="local",
        )
    return str(network.network_address + _FIRST_HOST + rank)


@contextlib.contextmanager
def _locked(registry: Path) -> Iterator[dict[str, str]]:
    """The registry's clusters, held under an exclusive lock and written back on success."""
    registry.parent.mkdir(parents=True, exist_ok=True)
    lock_path = registry.with_name(registry.name + ".lock")
    with open(lock_path, "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            clusters = _read(registry)
            before = dict(clusters)
            yield clusters
            if clusters != before:
                tmp = registry.with_name(registry.name + f".{os.getpid()}.tmp")
                tmp.write_text(
                    json.dumps({"version": 1, "clusters": clusters}, indent=2, sort_keys=True)
                    + "\n",
                    encoding="utf-8",
                )
                os.replace(tmp, registry)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read(registry: Path) -> dict[str, str]:
    try:
        data = json.loads(registry.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CloudError(
            f"cannot read the network registry {registry}: {exc}", cloud="local"
        ) from exc
    clusters = data.get("clusters", {}) if isinstance(data, dict) else {}
    return {str(k): str(v) for k, v in clusters.items()}


def _listening_now() -> set[str]:
    try:
        return listening_networks(Path("/proc/net/tcp").read_text(encoding="ascii"))
    except OSError:
        return set()


def allocate_network(registry: Path, cluster: str, prefix: int = 24) -> str:
    """The cluster's block: the one it holds (if of this size), else a free one, recorded."""
    with _locked(registry) as clusters:
        held = clusters.get(cluster)
        if held is not None and ipaddress.IPv4Network(held).prefixlen == prefix:
            return held
        others = {c: n for c, n in clusters.items() if c != cluster}
        taken = set(others.values()) | _listening_now()
        cidr = choose_network(cluster, taken, prefix)
        clusters[cluster] = cidr
        return cidr


def registered_network(registry: Path, cluster: str) -> str | None:
    """The /24 recorded for the cluster, or None when it holds none."""
    with _locked(registry) as clusters:
        return clusters.get(cluster)


def release_network(registry: Path, cluster: str) -> None:
    """Forget the cluster's /24 so another cluster may take it."""
    with _locked(registry) as clusters:
        clusters.pop(cluster, None)
