"""The team-wide stack lock: a lease kept in the state backend, renewed while it is held.

Every machine that can read the stack's state sees it, so two people (two STYX_HOMEs) on one
S3 stack never interleave. It lives in `.styx/<project>/<stack>/locks/` of the backend: one
`exclusive.json` (apply, down) and a `shared-<id>.json` per job being followed (exec), each
naming holder, host, pid, operation, time and a lock id. A heartbeat thread rewrites the
record every third of the lease; a record older than its lease (by the backend's clock, so
hosts' clocks may differ), or left on this host by a process that is gone, is stale and
taken over, and the taker says so. STYX_LOCK_LEASE sets the lease in seconds (default 60).

Exclusive and shared holders exclude each other the way two people at a door do: each writes
its own record first, then looks for the other kind, and steps back (removing its record)
when it finds a live one; with the backend's atomic writes at least one sees the other.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import random
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from styx.engine import StackRef
from styx.engine._backend import BackendStore, StoredRecord
from styx.errors import StackLockedError, StyxError

__all__ = ["LEASE_VARIABLE", "Lease", "hold_lease", "lease_seconds", "leases", "release_lease"]

LEASE_VARIABLE = "STYX_LOCK_LEASE"
_DEFAULT_LEASE = 60.0
_EXCLUSIVE = "exclusive.json"
_SHARED = "shared-"


def lease_seconds() -> float:
    """The lease this process writes into its records (STYX_LOCK_LEASE, default 60s)."""
    raw = os.environ.get(LEASE_VARIABLE)
    if not raw:
        return _DEFAULT_LEASE
    try:
        value = float(raw)
    except ValueError:
        raise StyxError(f"{LEASE_VARIABLE} must be a number of seconds, not {raw!r}") from None
    if not 0.5 <= value <= 86400:
        raise StyxError(f"{LEASE_VARIABLE} must be between 0.5 and 86400 seconds, not {raw}")
    return value


def _store(ref: StackRef) -> BackendStore:
    return BackendStore(ref.backend_url, f"{ref.project}/{ref.stack}/locks")


@dataclass(frozen=True)
class Lease:
    """One lease record in the backend: who holds it, and whether it is stale."""

    lock_id: str
    name: str  # the record's name in the backend's lock folder
    user: str
    host: str
    pid: int
    operation: str
    since: str
    lease: float
    age: float  # seconds since it was last written, by the backend's clock
    tag: str
    damaged: str = ""  # why the record cannot be read, when it cannot

    @property
    def shared(self) -> bool:
        return self.name.startswith(_SHARED)

    def stale_reason(self) -> str | None:
        """Why the holder is provably gone or has stopped renewing, or None if it may live."""
        if self.damaged:
            return f"its record is {self.damaged}"
        if self.host == socket.gethostname() and _pid_gone(self.pid):
            return f"pid {self.pid} on this host is gone"
        if self.age > self.lease:
            return f"not renewed for {self.age:.0f}s, past its {self.lease:g}s lease"
        return None

    def describe(self) -> str:
        if self.damaged:
            return f"an unreadable lock record ({self.damaged})"
        return (f"{self.user}@{self.host} (pid {self.pid}, styx {self.operation}, "
                f"lock {self.lock_id}) since {self.since}")  # fmt: skip


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False
    return False


def _parse(record: StoredRecord) -> Lease:
    try:
        data = json.loads(record.text)
        return Lease(str(data["lock_id"]), record.key, str(data["user"]), str(data["host"]),
                     int(data["pid"]), str(data["operation"]), str(data["since"]),
                     float(data["lease"]), record.age, record.tag)  # fmt: skip
    except (ValueError, KeyError, TypeError):
        what = "empty" if not record.text.strip() else "not a lock record"
        return Lease(record.key.removesuffix(".json"), record.key, "?", "?", 0, "?", "?",
                     0.0, record.age, record.tag, damaged=what)  # fmt: skip


def _read(store: BackendStore, name: str) -> Lease | None:
    record = store.read(name)
    return None if record is None else _parse(record)


def leases(ref: StackRef) -> list[Lease]:
    """Every lease record on the stack now, stale ones included."""
    store = _store(ref)
    found = []
    for name in store.names():
        if name == _EXCLUSIVE or (name.startswith(_SHARED) and name.endswith(".json")):
            lease = _read(store, name)
            if lease is not None:
                found.append(lease)
    return found


def release_lease(ref: StackRef, lock_id: str) -> Lease | None:
    """Remove the lease `lock_id` at once, whoever holds it; the lease removed, or None."""
    store = _store(ref)
    for _attempt in range(10):  # its heartbeat may rewrite it between our read and delete
        found = [lease for lease in leases(ref) if lease.lock_id == lock_id]
        if not found:
            return None
        if store.delete(found[0].name, found[0].tag):
            return found[0]
    return None


class _Held:
    """A lease this process holds, and the heartbeat thread that renews it."""

    def __init__(self, store: BackendStore, name: str, body: dict[str, object],
                 tag: str, stack: str) -> None:  # fmt: skip
        self.store, self.name, self.body, self.tag, self.stack = store, name, body, tag, stack
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"styx-lease-{stack}",
                                        daemon=True)  # fmt: skip

    def start(self) -> None:
        self._thread.start()

    def _beat(self) -> None:
        period = float(str(self.body["lease"])) / 3
        beat = 0
        while not self._stop.wait(period):
            beat += 1
            body = {**self.body, "beat": beat, "renewed": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            text = json.dumps(body)
            try:
                if self.store.replace(self.name, text, self.tag):
                    record = self.store.read(self.name)
                    if record is not None and record.text == text:
                        self.tag = record.tag
                    continue
            except Exception as err:  # a backend hiccup: try again at the next beat
                if beat % 3 == 0:
                    print(f"styx: could not renew the lock on {self.stack}: {err}",
                          file=sys.stderr)  # fmt: skip
                continue
            now = _read(self.store, self.name)
            self.lost = (f"taken over by {now.describe()}" if now is not None
                         else "released (styx unlock)")  # fmt: skip
            print(f"styx: this command's lock on {self.stack} was {self.lost}",
                  file=sys.stderr)  # fmt: skip
            return

    def release(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        if self.lost is None:
            with contextlib.suppress(Exception):  # gone already: nothing to release
                self.store.delete(self.name, self.tag)


def _blocking(store: BackendStore, mine: str, shared: bool,
              notify: Callable[[str], None] | None, stack: str) -> list[Lease]:  # fmt: skip
    """The live holders of the other kind (an exclusive one also excludes exclusive ones);
    stale ones are removed, and `notify` told."""
    names = [n for n in store.names() if n != mine
             and (n == _EXCLUSIVE if shared else n.startswith(_SHARED))]  # fmt: skip
    live = []
    for name in names:
        lease = _read(store, name)
        if lease is None:
            continue
        why = lease.stale_reason()
        if why is None:
            live.append(lease)
        elif store.delete(name, lease.tag) and notify is not None:
            notify(f"took over a stale lock on {stack}: {lease.describe()}; {why}")
    return live


def _try(store: BackendStore, name: str, text: str, shared: bool,
         notify: Callable[[str], None] | None, stack: str) -> tuple[str | None, list[Lease]]:
    """One attempt: (the record's tag when taken, else None; the live holders in the way)."""
    if store.create(name, text):
        tag = store.read(name)
    else:
        current = _read(store, name)
        if current is None:
            return None, []  # released in between: try again at once
        why = current.stale_reason()
        if why is None:
            return None, [current]
        if not store.replace(name, text, current.tag):
            return None, []  # someone else took it over first
        if notify is not None:
            notify(f"took over a stale lock on {stack}: {current.describe()}; {why}")
        tag = store.read(name)
    if tag is None or tag.text != text:
        return None, []
    live = _blocking(store, name, shared, notify, stack)
    if live:
        store.delete(name, tag.tag)  # step back: the other kind holds it
        return None, live
    return tag.tag, []


@contextmanager
def hold_lease(
    ref: StackRef,
    operation: str,
    *,
    shared: bool = False,
    wait: float = 0.0,
    notify: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the stack's team-wide lease for `operation`; StackLockedError names the holder.

    With `wait`, a held lease is waited for that many seconds (`notify` is told who holds
    it, once). A stale lease is taken over, and `notify` told whose it was and why.
    """
    store = _store(ref)
    lock_id = uuid.uuid4().hex[:12]
    name = f"{_SHARED}{lock_id}.json" if shared else _EXCLUSIVE
    body: dict[str, object] = {
        "lock_id": lock_id,
        "user": getpass.getuser(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "operation": operation,
        "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "lease": lease_seconds(),
        "stack": ref.qualified,
        "beat": 0,
    }
    text = json.dumps(body)
    deadline = time.monotonic() + wait
    told = False
    while True:
        tag, live = _try(store, name, text, shared, notify, ref.qualified)
        if tag is not None:
            break
        if live:
            by = ", ".join(lease.describe() for lease in live)
            if time.monotonic() >= deadline:
                raise StackLockedError(
                    f"stack {ref.qualified} is locked by {by}: wait for it to finish "
                    f"(`styx unlock {ref.stack} {live[0].lock_id}` if it is gone)",
                    stack=ref.qualified,
                )
            if notify is not None and not told:
                notify(f"stack {ref.qualified} is locked by {by}; waiting up to {wait:g}s ...")
                told = True
        time.sleep(0.3 + random.random() * 0.4)  # apart, so two stepping back do not meet again
    held = _Held(store, name, body, tag, ref.qualified)
    held.start()
    try:
        yield
    finally:
        held.release()
