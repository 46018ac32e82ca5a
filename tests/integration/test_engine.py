"""The engine really runs: install/locate it, then preview and deploy an inline program."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from types import ModuleType

import pulumi
import pytest
from pulumi.automation import OpType

from styx.engine import find_engine, sdk_version
from styx.engine._workspace import StackRef, open_stack

pytestmark = pytest.mark.integration


def test_engine_matches_sdk() -> None:
    engine = find_engine()
    assert engine is not None, "run `styx engine install` (make setup does)"
    assert os.access(engine.path, os.X_OK)
    out = subprocess.run([str(engine.path), "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"v{sdk_version()}"


@pytest.fixture
def probe_provider(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The probe's module; the provider process imports it by name, as it would import styx."""
    here = str(Path(__file__).parent)
    monkeypatch.setenv("PYTHONPATH", here)
    monkeypatch.syspath_prepend(here)
    import _probe_provider

    return _probe_provider


def test_inline_program_previews_and_deploys(
    styx_home: Path, tmp_path: Path, probe_provider: ModuleType
) -> None:
    def program() -> None:
        probe = probe_provider.Probe("probe", "hello")
        pulumi.export("digest", probe.digest)

    ref = StackRef("engine-test", "dev", backend_url=(tmp_path / "state").as_uri())
    stack = open_stack(ref, program)

    ops: list[tuple[OpType, str]] = []

    def on_event(event: object) -> None:
        pre = getattr(event, "resource_pre_event", None)
        if pre is not None:
            ops.append((pre.metadata.op, pre.metadata.type))

    preview = stack.preview(on_event=on_event)
    assert (OpType.CREATE, "pulumi-python:dynamic:Resource") in ops
    assert preview.change_summary.get("create") == 2  # the stack and the probe

    result = stack.up()
    assert result.outputs["digest"].value == hashlib.sha256(b"hello").hexdigest()
    assert list((tmp_path / "state").rglob("dev.json")), "the file backend holds the stack"

    again = stack.preview()
    assert again.change_summary == {"same": 2}
    stack.destroy()


def test_the_collector_is_paced_while_a_program_runs_and_restored_after(
    styx_home: Path, tmp_path: Path, probe_provider: ModuleType
) -> None:
    # Issue 17: full collections over a large plan's live heap are most of its GC time.
    import gc

    from styx.engine import StackOps

    seen: list[tuple[int, int]] = []

    def program() -> None:
        seen.append((gc.get_threshold()[2], gc.get_freeze_count()))
        probe_provider.Probe("probe", "hello")

    before = gc.get_threshold()
    ref = StackRef("engine-test", "gc", backend_url=(tmp_path / "state").as_uri())
    ops = StackOps(open_stack(ref, program))
    ops.preview()
    ops.up(message="paced")
    assert len(seen) == 2
    assert all(oldest >= 1000 and frozen > 0 for oldest, frozen in seen), seen
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    ops.destroy(message="done")
