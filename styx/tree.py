"""One view of a local file tree, shared by the plan's digest and the bundle sent to the nodes.

What the nodes receive (a tar of the tree, unpacked with `cp -a`) keeps each entry's kind,
name, permission bits, content and symlink target, and empty folders too. The digest covers
exactly those, so a change the nodes would see always changes it, and timestamps (which a
fresh checkout changes for nothing) never do. Sockets, fifos and devices are left out of
both: tar cannot carry them.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Final

__all__ = ["MISSING", "tree_digest", "tree_entries"]

# The digest of a path that does not exist: absence is a state the plan can compare.
MISSING: Final = "missing"


def tree_entries(root: Path) -> Iterator[tuple[str, Path]]:
    """(relative name, path) of the root and everything under it, in a stable order.

    Symlinks are entries themselves and are never followed, as tar and `cp -a` treat them.
    The root is named ".".
    """
    yield ".", root
    if root.is_symlink() or not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        base = Path(folder)
        for name in sorted([*dirs, *files]):
            entry = base / name
            yield entry.relative_to(root).as_posix(), entry


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_digest(path: Path) -> str:
    """sha256 over a file or folder: each entry's kind, name, mode, content or link target.

    Timestamps and owners are left out on purpose: the nodes' copy belongs to their user,
    and touching a file is no change.
    """
    if not path.exists() and not path.is_symlink():
        return MISSING
    digest = hashlib.sha256()
    for name, entry in sorted(tree_entries(path)):
        info = entry.lstat()
        mode = f"{stat.S_IMODE(info.st_mode):04o}"
        fields: tuple[str, ...]
        if stat.S_ISLNK(info.st_mode):
            fields = ("L", name, os.readlink(entry))
        elif stat.S_ISDIR(info.st_mode):
            fields = ("D", name, mode)
        elif stat.S_ISREG(info.st_mode):
            fields = ("F", name, mode, _file_digest(entry))
        else:
            continue
        # NUL cannot occur in a file name, so no two trees join to the same bytes.
        digest.update("\0".join(fields).encode("utf-8", "surrogateescape") + b"\0\0")
    return digest.hexdigest()
