"""The CLI's error contract: one red line, exit 1, no traceback unless STYX_DEBUG is set."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(*args: str, debug: bool = False) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "STYX_HOME": "/nonexistent/styx-home"}
    if debug:
        env["STYX_DEBUG"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "styx", *args], capture_output=True, text=True, env=env
    )


def test_version_and_help() -> None:
    assert run("--version").stdout.startswith("styx, version ")
    out = run("--help").stdout
    for command in ("check", "engine"):
        assert command in out


def test_styx_error_is_one_line_and_exit_1() -> None:
    proc = run("engine", "path")  # no engine in a nonexistent home with a bare PATH
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: no Pulumi engine")
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback() -> None:
    proc = run("engine", "path", debug=True)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr


@pytest.mark.parametrize("args", [("nope",), ("check", "--bogus")])
def test_usage_errors_exit_1(args: tuple[str, ...]) -> None:
    proc = run(*args)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
