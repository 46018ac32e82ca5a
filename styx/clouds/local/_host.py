"""The local cloud's catalog: the host's cores and memory, and whether a cluster fits on it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from styx.errors import CloudError

__all__ = [
    "HostCatalog",
    "check_file_mounts",
    "check_fits",
    "host_catalog",
    "outside_home",
    "parse_meminfo",
]

_MEMINFO = Path("/proc/meminfo")


@dataclass(frozen=True)
class HostCatalog:
    """What one machine offers to the nodes that share it."""

    cores: int
    memory_gb: float


def parse_meminfo(text: str) -> float:
    """Total memory in GiB from the text of /proc/meminfo."""
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key == "MemTotal":
            kib = int(rest.split()[0])
            return kib / (1024 * 1024)
    raise CloudError("cannot read the host's memory: no MemTotal in /proc/meminfo", cloud="local")


def host_catalog() -> HostCatalog:
    """The cores this process may run on (affinity, not the machine's total) and its memory."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    try:
        memory_gb = parse_meminfo(_MEMINFO.read_text(encoding="ascii"))
    except OSError as exc:  # pragma: no cover - not Linux
        raise CloudError(f"cannot read the host's memory: {exc}", cloud="local") from exc
    return HostCatalog(cores=cores, memory_gb=memory_gb)


def _fmt(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def check_fits(
    cpus: float | None,
    memory_gb: float | None,
    num_nodes: int,
    host: HostCatalog | None = None,
) -> list[str]:
    """Warnings for a cluster that oversubscribes the host; CloudError when one node cannot fit.

    Local nodes share the host, so a single node larger than the host is impossible, while a
    cluster whose sum exceeds it only runs slower: that is worth a warning, not a refusal.
    """
    host = host or host_catalog()
    if num_nodes < 1:
        raise CloudError(f"num_nodes must be at least 1, got {num_nodes}", cloud="local")
    if cpus is not None and cpus > host.cores:
        raise CloudError(
            f"a node asks for {_fmt(cpus)} CPUs but this host has {host.cores}",
            cloud="local", field="resources.cpus",
        )
    if memory_gb is not None and memory_gb > host.memory_gb:
        raise CloudError(
            f"a node asks for {_fmt(memory_gb)} GB of memory "
            f"but this host has {_fmt(host.memory_gb)} GB",
            cloud="local", field="resources.memory",
        )
    warnings: list[str] = []
    if cpus is not None and cpus * num_nodes > host.cores:
        warnings.append(
            f"{num_nodes} nodes × {_fmt(cpus)} CPUs = {_fmt(cpus * num_nodes)} CPUs "
            f"oversubscribes this host's {host.cores} cores"
        )
    if memory_gb is not None and memory_gb * num_nodes > host.memory_gb:
        warnings.append(
            f"{num_nodes} nodes × {_fmt(memory_gb)} GB = {_fmt(memory_gb * num_nodes)} GB "
            f"oversubscribes this host's {_fmt(host.memory_gb)} GB of memory"
        )
    return warnings


def outside_home(destinations: Iterable[str]) -> list[str]:
    """The mount destinations that would land outside the node's home, sorted."""
    return sorted(
        dst
        for dst in destinations
        if dst.startswith("/")
        or ".." in PurePosixPath(dst.removeprefix("~/")).parts
        or (dst.startswith("~") and not (dst == "~" or dst.startswith("~/")))
    )


def check_file_mounts(destinations: Iterable[str]) -> None:
    """CloudError unless every file mount lands inside the node's home (`~/...` or relative).

    A local node shares the host's filesystem: an absolute destination, or one that climbs
    out with `..`, would write outside STYX_HOME, into the user's own machine.
    """
    bad = outside_home(destinations)
    if bad:
        raise CloudError(
            "local nodes share this machine's filesystem, so file_mounts must land in the "
            f"node's home (~/...): {', '.join(bad)}",
            cloud="local",
            field=f"file_mounts.{bad[0]}",
        )
