"""Find and kill every process that belongs to one local node: by what Styx started, never by
where a process happens to run.

A node's processes are (1) the members of the node's own cgroup, when a writable cgroup v2
hierarchy exists (as root on most Linux hosts): sshd is started inside it, so every
descendant stays in it, a daemonised job that cleared its environment included; (2) every
process whose environment carries the node's marker (sshd's sessions export it); (3) the
descendants of the node's sshd. A process merely started inside a node's folder by someone
else is none of these and is left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MARKER",
    "ProcInfo",
    "cgroup_base",
    "cluster_cgroups",
    "descendants",
    "is_alive",
    "kill_cgroup",
    "kill_until_gone",
    "node_cgroup",
    "node_processes",
    "parse_stat",
    "process_table",
    "remove_cgroup",
]

# Every process of a node carries MARKER=<node root> in its environment: sshd is started with it
# (its per-connection children inherit it) and the session wrapper exports it to every job.
# sshd puts each session in a new session (setsid), so neither the process group nor the parent
# chain reaches a job that daemonized; the inherited environment does.
MARKER = "STYX_NODE_ROOT"

_PROC = Path("/proc")


@dataclass(frozen=True)
class ProcInfo:
    """The little of /proc/<pid>/stat that we need."""

    pid: int
    ppid: int
    state: str
    tty: int  # the controlling terminal's device number, 0 for none


def parse_stat(pid: int, raw: str) -> ProcInfo | None:
    """ProcInfo from the text of /proc/<pid>/stat (None when it is cut short)."""
    # The command name sits in parentheses and may itself contain spaces or parentheses.
    rest = raw[raw.rfind(")") + 2 :].split()
    if len(rest) < 5:
        return None
    return ProcInfo(pid=pid, ppid=int(rest[1]), state=rest[0], tty=int(rest[4]))


def _read_stat(pid: int) -> ProcInfo | None:
    try:
        raw = (_PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return parse_stat(pid, raw)


def process_table() -> dict[int, ProcInfo]:
    """Every live process visible to us (zombies excluded: they hold nothing, cannot die again)."""
    table: dict[int, ProcInfo] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            info = _read_stat(int(entry.name))
            if info is not None and info.state not in ("Z", "X"):
                table[info.pid] = info
    return table


def is_alive(pid: int) -> bool:
    """Whether pid names a running (not zombie) process."""
    info = _read_stat(pid)
    return info is not None and info.state not in ("Z", "X")


def cmdline(pid: int) -> str:
    """The process's command line, arguments joined by spaces ('' when it is gone)."""
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", errors="replace").strip()


def _has_marker(pid: int, marker: bytes) -> bool:
    try:
        environ = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:  # gone, or another user's process: not ours either way
        return False
    return marker in environ.split(b"\0")


def _cgroup2_mount() -> Path | None:
    try:
        mounts = (_PROC / "self" / "mounts").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[2] == "cgroup2":
            return Path(fields[1])
    return None


def cgroup_base() -> Path | None:
    """The cgroup v2 folder holding one cgroup per local node, or None when we may not."""
    mount = _cgroup2_mount()
    if mount is None:
        return None
    base = mount / "styx"
    try:
        base.mkdir(exist_ok=True)
    except OSError:
        return None
    return base if os.access(base / "cgroup.procs", os.W_OK) else None


def _cluster_key(cluster_dir: Path) -> str:
    return "c" + hashlib.sha256(str(cluster_dir).encode()).hexdigest()[:16]


def node_cgroup(root: Path) -> Path | None:
    """The node's cgroup (named after its folder, so found even once the folder is gone)."""
    base = cgroup_base()
    if base is None:
        return None
    return base / f"{_cluster_key(root.parent)}-{root.name}"


def cluster_cgroups(cluster_dir: Path) -> list[Path]:
    """Every node cgroup of the cluster in `cluster_dir` that exists now."""
    base = cgroup_base()
    if base is None:
        return []
    return sorted(p for p in base.glob(f"{_cluster_key(cluster_dir)}-*") if p.is_dir())


def _cgroup_members(cgroup: Path | None) -> set[int]:
    """Every process in the node's cgroup and the groups below it (the agent puts each job
    in a group of its own under the node's)."""
    if cgroup is None or not cgroup.is_dir():
        return set()
    members: set[int] = set()
    for procs in [cgroup / "cgroup.procs", *cgroup.rglob("*/cgroup.procs")]:
        try:
            text = procs.read_text(encoding="ascii")
        except OSError:
            continue
        members |= {int(line) for line in text.split() if line.isdigit()}
    return members


def kill_cgroup(cgroup: Path | None) -> None:
    """Kill every member at once where the kernel can (cgroup.kill, Linux 5.14+)."""
    if cgroup is None or not _cgroup_members(cgroup):
        return
    with contextlib.suppress(OSError):
        (cgroup / "cgroup.kill").write_text("1", encoding="ascii")


def remove_cgroup(cgroup: Path | None) -> None:
    """Remove the node's cgroup once it is empty, the groups below it first."""
    if cgroup is None or not cgroup.is_dir():
        return
    below = sorted((p for p in cgroup.rglob("*") if p.is_dir()),
                   key=lambda p: len(p.parts), reverse=True)  # fmt: skip
    for group in [*below, cgroup]:
        with contextlib.suppress(OSError):
            group.rmdir()


def _server_by_config(config: Path) -> set[int]:
    """Our sshd listening for this node's config, even once its pid file is gone."""
    needle = f"-f {config}"
    uid = os.getuid()
    found: set[int] = set()
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid and needle in cmdline(int(entry.name)):
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


def descendants(table: dict[int, ProcInfo], roots: Iterable[int]) -> set[int]:
    """The given pids and all their children, grandchildren, ... found in the table."""
    children: dict[int, list[int]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info.pid)
    found: set[int] = set()
    stack = [pid for pid in roots if pid in table]
    while stack:
        pid = stack.pop()
        if pid in found:
            continue
        found.add(pid)
        stack.extend(children.get(pid, ()))
    return found


def _protected(table: dict[int, ProcInfo]) -> set[int]:
    """This process and its ancestors: never ours to kill, whatever their cwd."""
    protected = {0, 1}
    pid = os.getpid()
    while pid > 1 and pid not in protected:
        protected.add(pid)
        info = table.get(pid)
        pid = info.ppid if info else 0
    return protected


def node_processes(root: Path, server_pid: int | None) -> set[int]:
    """Every live process of the node rooted at `root`: server, sessions, jobs, their children."""
    table = process_table()
    marker = f"{MARKER}={root}".encode()
    seeds = {pid for pid in table if _has_marker(pid, marker)}
    seeds |= _cgroup_members(node_cgroup(root)) & set(table)
    seeds |= _server_by_config(root / "etc" / "sshd_config") & set(table)
    if server_pid is not None:
        seeds.add(server_pid)
    return descendants(table, seeds) - _protected(table)


def _signal_all(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def kill_until_gone(
    find: Callable[[], set[int]], *, grace: float = 1.0, timeout: float = 10.0
) -> set[int]:
    """SIGTERM what `find` returns, then SIGKILL until it returns nothing; the survivors, if any.

    `find` is asked again each round because a dying job may fork, and an sshd may accept a
    connection in the meantime.
    """
    pids = find()
    if not pids:
        return set()
    _signal_all(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        pids = find()
        if not pids:
            return set()
        time.sleep(0.05)
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        # Stop first so nothing forks between our scan and the kill.
        _signal_all(pids, signal.SIGSTOP)
        _signal_all(pids, signal.SIGKILL)
        time.sleep(0.05)
        pids = find()
    return pids
