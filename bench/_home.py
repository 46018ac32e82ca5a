"""Shared set-up for the benchmarks: the installed engine, and a throwaway STYX_HOME."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["isolated_styx_home"]


@contextmanager
def isolated_styx_home() -> Iterator[Path]:
    """A temp folder as STYX_HOME, with the already-installed engine kept on PATH.

    The engine is looked up first, under the real STYX_HOME: building it takes minutes and
    is not what a benchmark measures.
    """
    from styx.engine import find_engine

    engine = find_engine()
    if engine is None:
        raise SystemExit("no engine: run `styx engine install` first")
    os.environ["PATH"] = os.pathsep.join([str(engine.bin_dir), os.environ.get("PATH", "")])
    with tempfile.TemporaryDirectory(prefix="styx-bench-") as tmp:
        os.environ["STYX_HOME"] = str(Path(tmp) / "home")
        yield Path(tmp)
