"""The stack lock: a second holder is refused with the first one named; release frees it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from styx.workflow._lock import lock_holder, stack_lock


def test_second_holder_is_refused_and_named(tmp_path: Path) -> None:
    lock = tmp_path / "stack.lock"
    with stack_lock(lock, "styx/hello", "apply"):
        probe = (
            "import sys; from pathlib import Path; from styx.workflow._lock import stack_lock\n"
            "from styx.errors import StackLockedError\n"
            "try:\n"
            f"    with stack_lock(Path({str(lock)!r}), 'styx/hello', 'down'): pass\n"
            "except StackLockedError as e: print(e); sys.exit(3)\n"
        )
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        assert out.returncode == 3
        assert "stack styx/hello is locked by" in out.stdout
        assert "styx apply" in out.stdout
    with stack_lock(lock, "styx/hello", "apply"):  # released: free again
        pass
    assert lock.read_text() == ""


def test_lock_is_released_when_the_body_fails(tmp_path: Path) -> None:
    lock = tmp_path / "stack.lock"
    with pytest.raises(RuntimeError), stack_lock(lock, "s", "apply"):
        raise RuntimeError("boom")
    with stack_lock(lock, "s", "apply"):
        pass


def _probe(lock: Path, operation: str, shared: bool = False) -> subprocess.CompletedProcess[str]:
    """Try the lock from another process: exit 3 and the message when refused."""
    code = (
        "import sys; from pathlib import Path; from styx.workflow._lock import stack_lock\n"
        "from styx.errors import StackLockedError\n"
        "try:\n"
        f"    with stack_lock(Path({str(lock)!r}), 's', {operation!r}, shared={shared}): pass\n"
        "except StackLockedError as e: print(e); sys.exit(3)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_a_holder_in_one_process_may_take_it_again(tmp_path: Path) -> None:
    # apply_planned takes the lock itself, and apply_target calls it holding the lock.
    lock = tmp_path / "stack.lock"
    with stack_lock(lock, "s", "apply"), stack_lock(lock, "s", "apply"):
        assert _probe(lock, "down").returncode == 3
    assert _probe(lock, "down").returncode == 0


def test_jobs_share_the_lock_and_exclude_apply_and_down(tmp_path: Path) -> None:
    lock = tmp_path / "stack.lock"
    with stack_lock(lock, "s", "exec", shared=True):
        assert _probe(lock, "exec", shared=True).returncode == 0
        refused = _probe(lock, "down")
        assert refused.returncode == 3
        assert "styx exec" in refused.stdout
    assert lock_holder(lock) is None
    with stack_lock(lock, "s", "apply"):
        assert "styx apply" in _probe(lock, "exec", shared=True).stdout


def test_a_dead_holder_is_named_as_gone(tmp_path: Path) -> None:
    lock = tmp_path / "stack.lock"
    # A holder killed with -9 leaves its note; the kernel released its flock.
    killed = subprocess.run(
        [sys.executable, "-c",
         "import os, signal; from pathlib import Path; from styx.workflow._lock import stack_lock\n"
         f"with stack_lock(Path({str(lock)!r}), 's', 'apply'): os.kill(os.getpid(), 9)\n"],
    )  # fmt: skip
    assert killed.returncode == -9
    assert lock_holder(lock) is None
    notes: list[str] = []
    with stack_lock(lock, "s", "apply", notify=notes.append):
        pass
    assert notes and "is gone" in notes[0] and "styx apply" in notes[0]


def test_waiting_for_the_lock_says_who_holds_it(tmp_path: Path) -> None:
    lock = tmp_path / "stack.lock"
    ready = tmp_path / "ready"
    holder = subprocess.Popen([
        sys.executable, "-c",
        "import time; from pathlib import Path; from styx.workflow._lock import stack_lock\n"
        f"with stack_lock(Path({str(lock)!r}), 's', 'exec', shared=True):\n"
        f"    Path({str(ready)!r}).touch(); time.sleep(2)\n",
    ])  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "styx exec" in str(lock_holder(lock))  # what `plan` shows meanwhile
        notes: list[str] = []
        with stack_lock(lock, "s", "apply", wait=120, notify=notes.append):
            assert holder.poll() is not None or holder.wait(5) == 0
        assert "waiting" in notes[0] and "styx exec" in notes[0]
    finally:
        holder.wait()
