"""The stack lock: a second holder is refused with the first one named; release frees it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from styx.errors import StackLockedError
from styx.workflow._lock import stack_lock


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


def test_nested_holders_in_one_process_are_refused(tmp_path: Path) -> None:
    lock = tmp_path / "stack.lock"
    with (
        stack_lock(lock, "s", "apply"),
        pytest.raises(StackLockedError),
        stack_lock(lock, "s", "down"),
    ):
        pass
