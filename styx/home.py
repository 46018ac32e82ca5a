"""Where Styx keeps its files: everything it writes lives under STYX_HOME (default ~/.styx)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["engine_root", "styx_home"]


def styx_home() -> Path:
    """The root of everything Styx writes; read from the environment on each call, never cached."""
    raw = os.environ.get("STYX_HOME")
    return Path(raw).expanduser() if raw else Path.home() / ".styx"


def engine_root() -> Path:
    """Engines Styx installed or built, one folder per version."""
    return styx_home() / "engine"
