"""The supervisor: what Styx starts through it ends when Styx is killed, descendants included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from styx import _supervise

SCRIPT = str(Path(_supervise.__file__).resolve())


def _wait_for(check, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _has_child(pid: int) -> bool:
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and _ppid(int(entry)) == pid:
                return True
        except (OSError, IndexError, ValueError):
            continue
    return False


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[1])


def test_a_killed_parent_takes_the_command_and_its_daemons_along(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # "styx": a parent that starts the supervised command, then is killed with -9. The
    # command leaves a daemon in its own session, as ssh's ControlPersist master does.
    command = (
        f"setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $! >> {pids}; "
        f"echo $$ >> {pids}; exec sleep 600"
    )
    parent = subprocess.Popen([
        sys.executable, "-c",
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-I', '-S', {SCRIPT!r}, '--', 'sh', '-c', "
        f"{command!r}])\ntime.sleep(600)\n",
    ])  # fmt: skip
    assert _wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 2)
    started = [int(p) for p in pids.read_text().split()]
    assert all(_alive(p) for p in started)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert _wait_for(lambda: not any(_alive(p) for p in started)), started


def test_a_process_without_the_tag_is_left_alone(tmp_path: Path) -> None:
    bystander = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", SCRIPT, "--", "sh", "-c",
             "echo out; echo err >&2; exit 3"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_stop_supervised_children_finds_only_direct_supervised_children() -> None:
    child = subprocess.Popen([sys.executable, "-I", "-S", SCRIPT, "--", "sleep", "600"])
    other = subprocess.Popen(["sleep", "600"])
    try:
        assert _wait_for(lambda: child.pid in _supervise.supervised_children())
        # The supervisor has started its command (so its signal handlers are in place).
        assert _wait_for(lambda: _has_child(child.pid))
        assert other.pid not in _supervise.supervised_children()
        _supervise.stop_supervised_children(signal.SIGTERM, wait=30)
        assert child.wait(30) == 128 + signal.SIGTERM
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()
        if child.poll() is None:
            child.kill()
    assert os.getpid() not in _supervise.supervised_children()
