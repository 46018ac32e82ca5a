"""Release a stack's locks after showing who holds them: Styx's own and the engine's.

Styx's local lock is an flock, freed by the kernel when its holder dies: only the note a
dead holder left is cleared, and a live holder is never overridden. Styx's team-wide lease
in the backend ("team" locks) is released at once when named by its id (a holder on
another machine cannot be seen from here: the person naming it decides), and without an id
only when stale. The engine's locks are files
in the backend; a lock whose holder is alive (same host) is kept unless forced.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from styx.engine import StackOps, StackRef, open_stack
from styx.errors import EngineError, StackLockedError, StackNotFoundError
from styx.workflow._lease import leases, release_lease
from styx.workflow._lock import lock_holder, lock_path
from styx.workflow._target import stack_dir

__all__ = ["UnlockResult", "stack_locks", "unlock_stack"]


@dataclass(frozen=True)
class HeldLock:
    """One lock on a stack: whose, and whether its holder is provably gone."""

    lock_id: str
    kind: str  # "styx" (this machine's) | "team" (the backend's lease) | "engine"
    holder: str
    gone: bool
    path: Path | None = None


@dataclass(frozen=True)
class UnlockResult:
    locks: tuple[HeldLock, ...]  # what held the stack
    released: tuple[HeldLock, ...]


def _ops(ref: StackRef) -> StackOps | None:
    try:
        return StackOps(open_stack(ref, create=False))
    except StackNotFoundError:
        return None


def stack_locks(ref: StackRef) -> list[HeldLock]:
    """Every lock on the stack now, Styx's and the engine's."""
    from styx.engine._ops import is_stale

    found: list[HeldLock] = []
    local = lock_path(stack_dir(ref))
    holder = lock_holder(local)
    if holder is not None:
        found.append(HeldLock("styx", "styx", holder, False, local))
    for lease in leases(ref):
        why = lease.stale_reason()
        text = lease.describe() + (f"; stale: {why}" if why else "")
        found.append(HeldLock(lease.lock_id, "team", text, why is not None))
    ops = _ops(ref)
    if ops is None:
        return found
    for bad in ops.damaged_locks():
        what = "empty" if bad.stat().st_size == 0 else "not valid JSON"
        found.append(HeldLock(bad.stem, "engine", f"nobody: the lock file {bad} is {what}",
                              True, bad))  # fmt: skip
    for lock in ops.engine_locks():
        in_s3 = lock.key.startswith("s3://")  # removed by the engine (`pulumi cancel`)
        found.append(HeldLock(Path(lock.key).stem, "engine", lock.describe(), is_stale(lock),
                              None if in_s3 else Path(lock.key)))  # fmt: skip
    return found


def unlock_stack(ref: StackRef, lock_id: str | None = None, *, force: bool = False) -> UnlockResult:
    """Release the stack's locks (only `lock_id` if given); StackLockedError for a live holder.

    A live engine holder is released only with `force`. Styx's own lock, held by a live
    process, is never released: the kernel frees it when that process ends.
    """
    locks = stack_locks(ref)
    chosen = [lock for lock in locks if lock_id in (None, lock.lock_id)]
    if lock_id is not None and not chosen:
        ids = ", ".join(lock.lock_id for lock in locks) or "none"
        raise StackLockedError(f"stack {ref.qualified} has no lock {lock_id} (its locks: {ids})",
                               stack=ref.qualified)  # fmt: skip
    for lock in chosen:
        if lock.kind == "team":
            if lock_id is None and not lock.gone and not force:
                raise StackLockedError(
                    f"stack {ref.qualified} is locked by {lock.holder}, whose lease is live: "
                    f"wait for it, or `styx unlock {ref.stack} {lock.lock_id}` if it is gone",
                    stack=ref.qualified,
                )
            continue
        if lock.kind == "styx":
            raise StackLockedError(
                f"stack {ref.qualified} is in use by {lock.holder}, which is alive: wait for it "
                "to end, or stop it (its lock is released when it ends)",
                stack=ref.qualified,
            )
        if not lock.gone and not force:
            raise StackLockedError(
                f"stack {ref.qualified}: the engine's lock {lock.lock_id} is held by "
                f"{lock.holder}, which may still be at work; `styx unlock --force` releases it "
                "anyway",
                stack=ref.qualified,
            )
    released = []
    ops = _ops(ref)
    for lock in chosen:
        if lock.kind == "team":
            if release_lease(ref, lock.lock_id) is not None:
                released.append(lock)
            continue
        if lock.path is not None and lock.path.is_file():
            lock.path.unlink()
            released.append(lock)
        elif lock.kind == "engine" and lock.path is None and ops is not None:
            with contextlib.suppress(EngineError):  # gone already
                ops.cancel()
                released.append(lock)
    if ops is not None and lock_id is None and not ops.backend_url.startswith("file://"):
        # Other backends: the engine removes its own lock files.
        with contextlib.suppress(EngineError):  # no update running: nothing to cancel
            ops.cancel()
    return UnlockResult(tuple(locks), tuple(released))
