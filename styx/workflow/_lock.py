"""A per-stack lock on this machine held for a whole apply or down, setup included.

Pulumi's own lock covers one engine operation; an apply is a preview, an update and a
playbook run, and a second apply between them would interleave with the first. flock is
released by the kernel when the holder dies, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from styx._fs import storage
from styx.errors import StackLockedError

__all__ = ["stack_lock"]


@contextmanager
def stack_lock(lock_file: Path, stack: str, operation: str) -> Iterator[None]:
    """Hold the stack's lock for `operation`; StackLockedError names the holder if taken."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raw = os.pread(fd, 4096, 0).decode(errors="replace")
            try:
                holder = json.loads(raw)
                by = (f"{holder['user']}@{holder['host']} (pid {holder['pid']}, "
                      f"styx {holder['operation']}) since {holder['since']}")
            except (ValueError, KeyError, TypeError):
                by = "another styx process"
            raise StackLockedError(
                f"stack {stack} is locked by {by}: wait for it to finish", stack=stack
            ) from None
        holder = {
            "user": getpass.getuser(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "operation": operation,
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        with storage(lock_file):  # a full disk: one line naming the lock, not Errno 28
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
