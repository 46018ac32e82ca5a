"""Where Styx keeps its files: everything it writes lives under STYX_HOME (default ~/.styx).

Whatever Styx writes there may hold a stack's secrets or a job's output, so it is private to
the user: folders 0700, files 0600. The helpers below create them that way whatever the
process umask; the CLI also sets umask 077 so files the engine, ansible-runner and the local
nodes write there are private too.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = [
    "PRIVATE_UMASK",
    "engine_root",
    "open_private",
    "private_dir",
    "restrict_umask",
    "styx_home",
    "write_private",
]

# Group and others get nothing: 0700 folders, 0600 files.
PRIVATE_UMASK = 0o077


def styx_home() -> Path:
    """The root of everything Styx writes; read from the environment on each call, never cached."""
    raw = os.environ.get("STYX_HOME")
    return Path(raw).expanduser() if raw else Path.home() / ".styx"


def engine_root() -> Path:
    """Engines Styx installed or built, one folder per version."""
    return styx_home() / "engine"


def restrict_umask() -> int:
    """Make every file this process and its children create private; returns the old umask."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """`path` as a folder, created (with any missing parents) mode 0700.

    `mkdir(parents=True)` would make the parents with the umask's default (often 0755), so
    each missing folder is made here with 0700; folders that already existed are left alone.
    """
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        # The umask can only take bits away from 0700; FileExistsError: another process won.
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
    return path


def open_private(path: Path, *, append: bool = False) -> int:
    """A file descriptor for writing `path`, created 0600 (truncated unless `append`)."""
    private_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    # An existing file keeps its mode through open(); a private file must not stay readable.
    os.fchmod(fd, 0o600)
    return fd


def write_private(path: Path, data: str | bytes) -> Path:
    """Write `data` to `path` (mode 0600, folders 0700), replacing what was there."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd = open_private(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(raw)
    return path
