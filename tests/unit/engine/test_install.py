"""Engine discovery: version acceptance, the plugin shim, and the error that names the ways."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from styx.engine import _install
from styx.errors import EngineNotFoundError


@pytest.mark.parametrize(
    ("found", "wanted", "ok"),
    [
        ("3.259.0", "3.259.0", True),
        ("3.260.1", "3.259.0", True),
        ("3.258.0", "3.259.0", False),
        ("4.0.0", "3.259.0", False),
        ("3.259.0-alpha.1", "3.259.0", True),
        ("", "3.259.0", False),
    ],
)
def test_version_acceptance(found: str, wanted: str, ok: bool) -> None:
    assert _install._accepts(found, wanted) is ok


def test_shim_runs_the_interpreter_named_by_styx_python(tmp_path: Path) -> None:
    shim = _install.write_dynamic_provider_shim(tmp_path / "bin")
    assert shim.name == "pulumi-resource-pulumi-python"
    assert shim.stat().st_mode & stat.S_IXUSR
    lines = shim.read_text().splitlines()
    assert lines == ["#!/bin/sh", 'exec "${STYX_PYTHON:-python3}" -u -m pulumi.dynamic "$@"']


def test_no_engine_and_no_way_to_get_one_names_all_three_ways(
    styx_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(styx_home / "empty"))  # no pulumi, no go
    monkeypatch.setattr(_install, "_reachable", lambda *_a, **_k: False)
    messages: list[str] = []
    with pytest.raises(EngineNotFoundError) as caught:
        _install.install_engine(messages.append)
    text = str(caught.value)
    assert "on PATH" in text and "installer" in text and "Go module proxy" in text
    assert any("not reachable" in m for m in messages)
    assert any("no Go toolchain" in m for m in messages)
    assert not os.path.exists(styx_home / "engine" / _install.sdk_version() / "bin" / "pulumi")
