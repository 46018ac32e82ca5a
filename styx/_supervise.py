"""Run one command for Styx so that it, and everything it starts, ends when Styx does.

    python -I -S _supervise.py [--interrupt] [--grace SECONDS] -- COMMAND [ARG...]

Styx starts the engine and ansible-playbook through this (stdlib only, so it starts fast).
It tags the command's environment with STYX_OWNER=<unique id>, which every process the
command starts inherits (the engine's provider plugins, Ansible's workers and ssh masters),
and relays the command's output so that the command never dies of a broken pipe when Styx
is killed. When its parent (Styx) dies, or Styx sends it SIGTERM, it stops the command:
with --interrupt by one SIGINT (the engine then finishes the steps in flight, records them
and releases its lock), else by SIGTERM; SIGKILL after the grace period. Whatever still
carries the tag once the command has ended (a plugin, an ssh master) is killed too.

The command runs in its own process group and the supervisor ignores SIGINT: a Ctrl-C at
the terminal reaches Styx alone, which decides, so the engine never gets two SIGINTs (its
second one means "terminate now", which would leave its lock behind).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable
from typing import IO, BinaryIO

OWNER = "STYX_OWNER"


def _relay(source: BinaryIO, sink: IO[bytes]) -> None:
    """Copy the command's output to ours until it ends; a gone reader is not its problem."""
    broken = False
    for chunk in iter(lambda: os.read(source.fileno(), 65536), b""):
        if broken:
            continue
        try:
            sink.write(chunk)
            sink.flush()
        except (BrokenPipeError, OSError):
            broken = True


def tagged(tag: str, uid: int) -> set[int]:
    """Live processes of `uid` whose environment holds `tag` (NAME=value)."""
    needle = tag.encode()
    found: set[int] = set()
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if needle not in handle.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[-1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            found.add(int(entry))
    return found


def _signal(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def kill_tagged(tag: str, uid: int, grace: float = 2.0) -> None:
    """SIGTERM what carries the tag, then SIGKILL what is left."""
    pids = tagged(tag, uid)
    if not pids:
        return
    _signal(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        time.sleep(0.05)
        pids = tagged(tag, uid)
    for _ in range(50):
        if not pids:
            return
        _signal(pids, signal.SIGKILL)
        time.sleep(0.05)
        pids = tagged(tag, uid)


def supervised_children(pid: int | None = None) -> list[int]:
    """This process's direct children that run under a supervisor (ours by construction)."""
    pid = os.getpid() if pid is None else pid
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[-1].split()
            if int(fields[1]) != pid:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if any(arg.endswith(b"_supervise.py") for arg in argv[:4]):
            found.append(int(entry))
    return found


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[-1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def stop_supervised_children(signum: int = signal.SIGTERM, wait: float = 0.0) -> list[int]:
    """Ask every supervised child of this process to stop its command; their pids.

    With `wait`, wait up to that many seconds for them to end (their commands cleaned up).
    """
    children = supervised_children()
    _signal(children, signum)
    deadline = time.monotonic() + wait
    while any(_running(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    return children


def main(argv: list[str]) -> int:
    interrupt, grace = False, 60.0
    while argv and argv[0] != "--":
        option = argv.pop(0)
        if option == "--interrupt":
            interrupt = True
        elif option == "--grace":
            grace = float(argv.pop(0))
        else:
            print(f"_supervise: unknown option {option}", file=sys.stderr)
            return 2
    command = argv[1:]
    if not command:
        print("_supervise: no command", file=sys.stderr)
        return 2
    parent = os.getppid()
    tag = f"{OWNER}={uuid.uuid4().hex}"
    env = {**os.environ, OWNER: tag.split("=", 1)[1]}
    # The command reads the terminal's Ctrl-C itself (same process group); we pass on the
    # signals sent to us alone.
    started: list[int] = []
    stopping: list[float] = []  # when we began to stop the command
    stop_signal = signal.SIGINT if interrupt else signal.SIGTERM

    def stop_command(*_: object) -> None:
        if not stopping:
            stopping.append(time.monotonic())
            _signal(started, stop_signal)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stop_command)
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, process_group=0
    )
    started.append(child.pid)
    if stopping:  # SIGTERM came before the command existed
        _signal(started, stop_signal)
    assert child.stdout is not None and child.stderr is not None
    relays = [
        threading.Thread(target=_relay, args=(child.stdout, sys.stdout.buffer), daemon=True),
        threading.Thread(target=_relay, args=(child.stderr, sys.stderr.buffer), daemon=True),
    ]
    for relay in relays:
        relay.start()
    while child.poll() is None:
        if not stopping and os.getppid() != parent:
            stop_command()
        elif stopping and time.monotonic() - stopping[0] > grace:
            _signal([child.pid], signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=0.2)
    for relay in relays:
        relay.join(timeout=5)
    kill_tagged(tag, os.getuid())
    code = child.returncode
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
