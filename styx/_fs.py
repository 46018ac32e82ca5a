"""Failed reads and writes as one StorageError: which path, why, and what to do about it.

Call `storage_error` where the write happens (it knows the path and the action), or wrap
the write in `storage(path)`. The CLI translates any OSError that escapes anyway, so a full
disk or a read-only folder never ends in a traceback.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from styx.errors import StorageError
from styx.home import styx_home

__all__ = ["storage", "storage_error"]

_ADVICE = {
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "the disk is full; free some space and run the command again",
    errno.EDQUOT: "the disk quota is used up; free some space and run the command again",
    errno.EACCES: "permission denied; check the owner and mode of the folder",
    errno.EPERM: "not permitted; check the owner and mode of the folder",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder, not a file",
    errno.ENAMETOOLONG: "the name is too long",
}


def _under_home(path: Path) -> bool:
    try:
        path.resolve().relative_to(styx_home().resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def storage_error(err: OSError, path: str | Path | None = None,
                  action: str = "write") -> StorageError:
    """The one-line error for `err` met while trying to `action` `path`."""
    where = str(path if path is not None else (err.filename or ""))
    reason = err.strerror or type(err).__name__
    advice = _ADVICE.get(err.errno or 0, reason.lower())
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and _under_home(Path(where)):
        advice += "; set STYX_HOME to a writable folder"
    elif err.errno == errno.EROFS:
        advice += "; choose a writable folder"
    elif err.errno == errno.ENOENT and action == "write":
        folder = Path(where).parent
        advice = f"folder {folder} does not exist; create it or choose another path"
    if not where:  # a write to an open file: the system does not say which one
        return StorageError(f"cannot {action}: {advice} (STYX_HOME is {styx_home()})",
                            path="", reason=reason)
    return StorageError(f"cannot {action} {where}: {advice}", path=where, reason=reason)


@contextmanager
def storage(path: str | Path | None = None, action: str = "write") -> Iterator[None]:
    """Turn an OSError inside the block into a StorageError naming `path` (else the
    file the system names)."""
    try:
        yield
    except OSError as err:
        raise storage_error(err, path, action) from err
