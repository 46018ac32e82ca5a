"""Paths in resource inputs relative to STYX_HOME, and which home made a resource.

Providers run in the engine's plugin process, which is given STYX_HOME; an input relative to
it names the same place on whichever machine applies, so the recorded inputs do not depend
on the machine (a second home's plan of an unchanged task is "No changes"). Old absolute
inputs still resolve to themselves.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

from styx.home import styx_home

__all__ = ["home_id", "home_path", "made_elsewhere", "same_place"]


def home_path(value: str) -> Path:
    """A path input as a path on this machine: relative ones are under this STYX_HOME."""
    path = Path(value)
    return path if path.is_absolute() else styx_home().expanduser().resolve() / path


def same_place(old: object, new: object) -> bool:
    """Whether two path inputs name the same place on this machine (an old absolute input
    and its new relative form do: that is a one-time update, not a new resource)."""
    if not isinstance(old, str) or not isinstance(new, str):
        return old == new
    return home_path(old) == home_path(new)


def home_id() -> str:
    """This machine's STYX_HOME, as a short id recorded beside what it made (an output)."""
    where = f"{socket.gethostname()}\0{styx_home().expanduser().resolve()}"
    return hashlib.sha256(where.encode()).hexdigest()[:16]


def made_elsewhere(props: dict[str, object]) -> bool:
    """Whether another STYX_HOME made this resource: what it holds is not to be seen from
    here, so reading it keeps the recorded state. Resources from before the id are ours."""
    return props.get("home", home_id()) != home_id()
