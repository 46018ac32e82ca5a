"""Find and kill every process that belongs to one local node, by scanning /proc."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MARKER",
    "ProcInfo",
    "descendants",
    "is_alive",
    "kill_until_gone",
    "node_processes",
    "parse_stat",
    "process_table",
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


def _cwd_under(pid: int, root: Path) -> bool:
    try:
        cwd = Path(os.readlink(_PROC / str(pid) / "cwd"))
    except OSError:
        return False
    return cwd == root or root in cwd.parents


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
    # The cwd test catches a job that cleared its environment. It skips processes with a
    # terminal: that is the user's own shell looking around the node's folder, not a job.
    seeds = {
        pid
        for pid, info in table.items()
        if _has_marker(pid, marker) or (info.tty == 0 and _cwd_under(pid, root))
    }
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
