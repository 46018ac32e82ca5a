"""Paths in resource inputs relative to STYX_HOME, and which home made a resource.

Providers run in the engine's plugin process, which is given STYX_HOME; an input relative to
it names the same place on whichever machine applies, so the recorded inputs do not depend
on the machine (a second home's plan of an unchanged task is "No changes"). An absolute
input recorded before (".../.styx/local/c/head") is the same input as its relative form
("local/c/head"): no change, not even an update (the preview of an updated network would
leave its addresses unknown and replace every node). Such a resource keeps its absolute
path, which names where it really lives, until something else about it changes.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

from styx.home import styx_home

__all__ = ["home_id", "home_path", "made_elsewhere", "same_input"]


def home_path(value: str) -> Path:
    """A path input as a path on this machine: relative ones are under this STYX_HOME."""
    path = Path(value)
    return path if path.is_absolute() else styx_home().expanduser().resolve() / path


def same_input(old: object, new: object) -> bool:
    """Whether two path inputs are the same: equal, or an old absolute one that ends in the
    new relative one (recorded before inputs were relative to STYX_HOME)."""
    if old == new:
        return True
    if not isinstance(old, str) or not isinstance(new, str):
        return False
    before, now = Path(old), Path(new)
    if not before.is_absolute() or now.is_absolute():
        return False
    return len(before.parts) > len(now.parts) and before.parts[-len(now.parts):] == now.parts


def home_id() -> str:
    """This machine's STYX_HOME, as a short id recorded beside what it made (an output)."""
    where = f"{socket.gethostname()}\0{styx_home().expanduser().resolve()}"
    return hashlib.sha256(where.encode()).hexdigest()[:16]


def made_elsewhere(props: dict[str, object]) -> bool:
    """Whether another STYX_HOME made this resource: what it holds is not to be seen from
    here, so reading it keeps the recorded state. Resources from before the id are ours."""
    return props.get("home", home_id()) != home_id()
