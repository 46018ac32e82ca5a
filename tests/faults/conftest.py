"""Fault-suite fixtures; the helpers live in faultkit.py beside this file."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from faultkit import Styx


@pytest.fixture
def make_styx(tmp_path: Path) -> Iterator[Callable[[str, str], Styx]]:
    made: list[Styx] = []

    def make(name: str, task: str) -> Styx:
        (tmp_path / "home").mkdir(exist_ok=True)
        (tmp_path / "work").mkdir(exist_ok=True)
        runner = Styx(tmp_path / "home", tmp_path / "work", name, task)
        made.append(runner)
        return runner

    yield make
    for runner in made:  # never leave nodes behind, whatever the test did
        runner("down", str(runner.task), "-y", "-q")
        for pid in runner.processes():
            os.kill(pid, signal.SIGKILL)
