"""Each engine process once per command at most: counted by a logging `pulumi` on PATH."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest

from styx.engine import StackOps, StackRef, find_engine, list_stacks, open_stack
from styx.errors import StackNotFoundError

pytestmark = pytest.mark.integration


@pytest.fixture
def engine_log(styx_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A `pulumi` that writes each command line to a log, then runs the real engine."""
    real = find_engine()
    assert real is not None, "run `styx engine install` (make setup does)"
    bin_dir = styx_home / "logging" / "bin"
    bin_dir.mkdir(parents=True)
    log = styx_home / "engine-calls.log"
    wrapper = bin_dir / "pulumi"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real.path}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    # The plugin shim lives beside the real engine; keep that folder reachable too.
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), os.environ["PATH"]]))
    assert find_engine() is not None and find_engine().path == wrapper  # type: ignore[union-attr]
    log.write_text("")
    yield log


def _calls(log: Path) -> list[str]:
    lines = log.read_text().splitlines()
    log.write_text("")
    words = [[w for w in line.split() if w != "--non-interactive"] for line in lines]
    # The command's name: `preview`, `version`, or `stack <subcommand>`.
    return [" ".join(w[:2] if w[0] == "stack" else w[:1]) for w in words]


def _program() -> None:
    pulumi.export("plain", "visible")
    pulumi.export("token", pulumi.Output.secret("s3cret-value"))


def test_the_version_is_asked_once_per_engine_binary(engine_log: Path) -> None:
    # The fixture's find_engine calls asked it once; every later one reads the cache.
    assert find_engine() is not None
    assert _calls(engine_log) == []
    wrapper = engine_log.parent / "logging" / "bin" / "pulumi"
    os.utime(wrapper, (1, 1))  # a new mtime: the version is asked again
    assert find_engine() is not None
    assert _calls(engine_log) == ["version"]


def test_plan_path_runs_each_engine_command_once(engine_log: Path, tmp_path: Path) -> None:
    ref = StackRef("calls", "dev", backend_url=(tmp_path / "state").as_uri())
    ops = StackOps(open_stack(ref, _program))
    first = _calls(engine_log)
    assert "stack init" in first  # a new stack is created by the engine, once
    outputs = ops.up(message="first")
    assert outputs == {"plain": "visible", "token": "[secret]"}
    after_up = _calls(engine_log)
    assert after_up.count("stack output") == 1, after_up

    # What `styx plan` does on an existing stack: open, preview (+ history), outputs.
    ops = StackOps(open_stack(ref, _program))
    assert _calls(engine_log) == []  # no `version`, no `stack select`
    outcome = ops.preview()
    assert ops.outputs() == {"plain": "visible", "token": "[secret]"}
    assert outcome.stack_version == 1
    assert sorted(_calls(engine_log)) == ["preview", "stack history", "stack output"]
    assert "s3cret-value" not in engine_log.read_text()


def test_a_missing_stack_is_still_refused_when_reading(engine_log: Path, tmp_path: Path) -> None:
    ref = StackRef("calls", "nowhere", backend_url=(tmp_path / "state").as_uri())
    with pytest.raises(StackNotFoundError):
        open_stack(ref, create=False)


def test_listing_an_empty_backend_starts_no_engine(engine_log: Path, tmp_path: Path) -> None:
    assert list_stacks("calls", (tmp_path / "empty").as_uri()) == []
    assert _calls(engine_log) == []
    ref = StackRef("calls", "one", backend_url=(tmp_path / "state").as_uri())
    StackOps(open_stack(ref, _program)).up(message="one")
    _calls(engine_log)
    assert [s.name for s in list_stacks("calls", ref.backend_url)] == ["one"]
    assert _calls(engine_log) == ["stack ls"]
