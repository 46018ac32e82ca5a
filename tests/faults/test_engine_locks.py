"""The engine's lock: a dead holder's is cleared, a damaged one named, `unlock` releases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest

from styx.engine import StackOps, StackRef, open_stack
from styx.errors import StackLockedError
from styx.workflow import stack_locks, unlock_stack

pytestmark = pytest.mark.integration


def _program() -> None:
    pulumi.export("ok", True)


def _lock_dir(home: Path, stack: str) -> Path:
    return home / "state" / ".pulumi" / "locks" / "organization" / "styx" / stack


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


def _write_lock(folder: Path, name: str, host: str, pid: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"pid": pid, "username": "someone", "hostname": host,
                                "timestamp": "2026-11-30T08:00:00Z"}))  # fmt: skip
    return path


def test_engine_locks_left_behind(styx_home: Path) -> None:
    import socket

    ref = StackRef("styx", "locks")
    ops = StackOps(open_stack(ref, _program))
    ops.up(message="first")
    folder = _lock_dir(styx_home, "locks")

    # A lock whose holder died on this host is removed, and the update says so.
    _write_lock(folder, "dead", socket.gethostname(), _dead_pid())
    notes: list[str] = []
    ops.up(message="after a dead holder", report=notes.append)
    assert any("which is gone: removing it" in note for note in notes), notes
    assert not list(folder.glob("*.json"))

    # An empty lock file (a full disk) is named as such; `unlock` removes it.
    (folder / "empty.json").write_text("")
    with pytest.raises(StackLockedError, match=r"empty\.json \(empty\).*styx unlock locks"):
        ops.up(message="refused")
    held = stack_locks(ref)
    assert [(lk.lock_id, lk.gone) for lk in held] == [("empty", True)]
    unlock_stack(ref)
    ops.up(message="after unlock")

    # A holder on another host may be alive: refused, named, released only by force.
    _write_lock(folder, "remote", "ci-runner-7", 4242)
    with pytest.raises(StackLockedError, match="someone@ci-runner-7 \\(pid 4242\\)"):
        ops.up(message="refused again")
    with pytest.raises(StackLockedError, match="--force"):
        unlock_stack(ref, "remote")
    released = unlock_stack(ref, "remote", force=True)
    assert [lk.lock_id for lk in released.released] == ["remote"]
    ops.up(message="free")
    assert ops.version() == 4
