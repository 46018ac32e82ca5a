"""A per-stack lock held for a whole apply, exec or down, setup included: here and team-wide.

Pulumi's own lock covers one engine operation; an apply is a preview, an update and a
playbook run, and a second apply (or a job, or a teardown) between them would interleave
with it. flock is released by the kernel when the holder dies, so a crash never leaves a
stale lock here: a holder named in the file whose lock is free is gone, and we say so.
Jobs (`exec`) share the lock with each other and exclude apply and down.

Given the stack, the lock also takes the team-wide lease in the state backend (_lease.py),
which every machine sharing the backend sees. The flock stays first: commands of one
STYX_HOME meet there without a round trip to the backend, re-entrance is decided there,
and a holder killed here frees it at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from styx._fs import storage
from styx.engine import StackRef
from styx.errors import StackLockedError
from styx.workflow._lease import hold_lease

__all__ = ["lock_holder", "lock_path", "stack_holder", "stack_lock"]

# Locks this process holds, so a library call inside a locked one (apply_planned inside
# apply_target) does not lock itself out: flock is per open file, not per process.
_HELD: dict[Path, int] = {}


def lock_path(state_dir: Path) -> Path:
    return state_dir / "styx.lock"


def _holders_dir(lock_file: Path) -> Path:
    return lock_file.with_name(lock_file.name + ".holders")


def _describe(raw: str) -> str | None:
    try:
        holder = json.loads(raw)
        return (f"{holder['user']}@{holder['host']} (pid {holder['pid']}, "
                f"styx {holder['operation']}) since {holder['since']}")  # fmt: skip
    except (ValueError, KeyError, TypeError):
        return None


def _holder_text(lock_file: Path) -> str:
    """Who holds the lock, from what the holders wrote (several for shared holders)."""
    found: list[str] = []
    with contextlib.suppress(OSError):
        if (text := _describe(lock_file.read_text(encoding="utf-8"))) is not None:
            found.append(text)
    folder = _holders_dir(lock_file)
    if folder.is_dir():
        for entry in sorted(folder.glob("*.json")):
            with contextlib.suppress(OSError):
                if (text := _describe(entry.read_text(encoding="utf-8"))) is not None:
                    found.append(text)
    return ", ".join(found) or "another styx process (it did not say who)"


def lock_holder(lock_file: Path) -> str | None:
    """Who holds the stack's lock now, or None when it is free (or held by this process)."""
    if lock_file.resolve() in _HELD or not lock_file.exists():
        return None
    fd = os.open(lock_file, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder_text(lock_file)
        # A shared holder (a job) does not block us; it is named in the holders folder.
        fcntl.flock(fd, fcntl.LOCK_UN)
        folder = _holders_dir(lock_file)
        live = [p for p in folder.glob("*.json") if _pid_alive(p.stem)] if folder.is_dir() else []
        return _holder_text(lock_file) if live else None
    finally:
        os.close(fd)


def stack_holder(lock_file: Path, ref: StackRef) -> str | None:
    """Who holds the stack now, here or anywhere the backend is shared (None: free, or us)."""
    from styx.workflow._lease import leases

    local = lock_holder(lock_file)
    if local is not None or lock_file.resolve() in _HELD:
        return local
    ours = (socket.gethostname(), os.getpid())
    live = [lease for lease in leases(ref) if not lease.shared
            and lease.stale_reason() is None and (lease.host, lease.pid) != ours]  # fmt: skip
    return live[0].describe() if live else None


def _pid_alive(text: str) -> bool:
    try:
        os.kill(int(text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _holder(operation: str) -> str:
    return json.dumps({
        "user": getpass.getuser(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "operation": operation,
        "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    })  # fmt: skip


@contextmanager
def stack_lock(
    lock_file: Path,
    stack: str,
    operation: str,
    *,
    shared: bool = False,
    wait: float = 0.0,
    notify: Callable[[str], None] | None = None,
    backend: StackRef | None = None,
) -> Iterator[None]:
    """Hold the stack's lock for `operation`; StackLockedError names the holder if taken.

    With `backend` (the stack), the team-wide lease in its state backend is held too.

    `shared` holders (jobs) exclude only exclusive ones. With `wait`, a taken lock is waited
    for that many seconds (`notify` is told who holds it) before giving up. A holder named in
    the file of a free lock died without releasing it cleanly: `notify` is told that too.
    """
    key = lock_file.parent.resolve() / lock_file.name
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    with storage(lock_file):  # a read-only or full STYX_HOME: one line naming the lock
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    mine: Path | None = None
    try:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                by = _holder_text(lock_file)
                if time.monotonic() >= deadline:
                    raise StackLockedError(
                        f"stack {stack} is locked by {by}: wait for it to finish", stack=stack
                    ) from None
                if notify is not None and not told:
                    notify(f"stack {stack} is locked by {by}; waiting up to {wait:g}s ...")
                    told = True
                time.sleep(0.2)
        if shared:
            folder = _holders_dir(lock_file)
            folder.mkdir(exist_ok=True)
            mine = folder / f"{os.getpid()}.json"
            with storage(mine):
                mine.write_text(_holder(operation), encoding="utf-8")
        else:
            gone = _describe(os.pread(fd, 4096, 0).decode(errors="replace"))
            if gone is not None and notify is not None:
                notify(f"the last holder of stack {stack}'s lock, {gone}, is gone "
                       "(it ended without releasing it); continuing")  # fmt: skip
            with storage(lock_file):  # a full disk: one line naming the lock, not Errno 28
                os.ftruncate(fd, 0)
                os.pwrite(fd, _holder(operation).encode(), 0)
        _HELD[key] = 1
        try:
            if backend is None:
                yield
            else:
                left = max(0.0, deadline - time.monotonic())
                with hold_lease(backend, operation, shared=shared, wait=left, notify=notify):
                    yield
        finally:
            del _HELD[key]
            if mine is not None:
                mine.unlink(missing_ok=True)
            else:
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
