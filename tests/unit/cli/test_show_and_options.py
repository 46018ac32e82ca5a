"""`styx show` on saved plans, NO_COLOR and non-terminals, and single-dash long options."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import click
import pytest

from styx.cli import cli
from styx.cli._app import refuse_single_dash_long_options
from styx.cli._common import use_color
from styx.plan import Action, NodeChange, Plan, Step, render_json, render_markdown, render_text
from styx.workflow import TargetOptions
from styx.workflow._saved import SavedPlan

NODE = "pulumi-python:dynamic/styx-local:Node"


def plan() -> Plan:
    steps = tuple(
        Step(Action.CREATE, NODE, f"hello-worker{i}", f"urn:{i}") for i in (10, 2, 1)
    )
    return Plan("styx", "hello", "local", steps,
                (NodeChange("nodes", "3 new nodes: setup runs there",
                            ("worker10", "worker2", "worker1"), True),),
                cost_after=1.5, stack_version=1, spec_hash="ab" * 32,
                setup_nodes=("worker10", "worker2", "worker1"))


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    full = {"PATH": os.environ["PATH"], "STYX_HOME": "/nonexistent/styx-home",
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""), **env}
    return subprocess.run([sys.executable, "-m", "styx", *args], capture_output=True,
                          text=True, env=full, cwd=cwd, timeout=120)


@pytest.fixture
def saved_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    data = SavedPlan(plan(), "hello.yaml", TargetOptions(stack_name="hello"), (), False)
    path.write_text(json.dumps(data.to_dict()))
    return path


def test_show_renders_a_saved_plan_in_every_format(saved_file: Path) -> None:
    for fmt, expected in (("text", render_text(plan())), ("markdown", render_markdown(plan())),
                          ("json", render_json(plan()))):
        proc = run("show", str(saved_file), "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == expected
    text = run("show", str(saved_file)).stdout
    assert text.index("hello-worker1 ") < text.index("hello-worker2 ") < text.index("worker10")
    assert "[worker1, worker2, worker10]" in text


def test_show_reads_json_plan_output_too(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text(render_json(plan()))
    assert run("show", str(path)).stdout == render_text(plan())


@pytest.mark.parametrize("content", [None, '{"name": "hello"}', "name: hello\n"])
def test_show_of_anything_else_says_it_is_not_a_saved_plan(
    tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "thing.json"
    if content is not None:
        path.write_text(content)
    proc = run("show", str(path))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: not a saved plan: {path}")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_plan_of_a_saved_plan_points_to_show(saved_file: Path) -> None:
    proc = run("plan", str(saved_file))
    assert proc.returncode == 1
    assert "is a saved plan, not a task: see it with `styx show" in proc.stderr
    assert "format_version" not in proc.stderr


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty()) and not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty())
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: only a non-empty value counts
    assert use_color(Tty())


def on_a_terminal(*args: str, **env: str) -> str:
    """What `styx ARGS` writes to a real terminal (a pseudo-terminal), stdout and stderr."""
    main, child = pty.openpty()
    full = {"PATH": os.environ["PATH"], "STYX_HOME": "/nonexistent/styx-home",
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "TERM": "xterm", **env}
    subprocess.run([sys.executable, "-m", "styx", *args], stdin=subprocess.DEVNULL,
                   stdout=child, stderr=child, env=full, timeout=120)
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(main)
    return out.decode()


def test_a_terminal_gets_colour_unless_no_color(saved_file: Path, tmp_path: Path) -> None:
    assert "\x1b[" in on_a_terminal("show", str(saved_file))
    plain = on_a_terminal("show", str(saved_file), NO_COLOR="1")
    assert "\x1b[" not in plain and "Stack styx/hello" in plain
    assert "\x1b[31m" in on_a_terminal("show", str(tmp_path / "missing.json"))
    error = on_a_terminal("show", str(tmp_path / "missing.json"), NO_COLOR="1")
    assert "error: not a saved plan" in error and "\x1b[" not in error


def test_no_color_reaches_click(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli.make_context("styx", ["show", "x"]).color is None
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli.make_context("styx", ["show", "x"]).color is False


def test_single_dash_long_options_are_refused(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("run: echo\n")
    proc = run("plan", "t.yaml", "-out=p.json", cwd=tmp_path)
    assert proc.returncode == 1
    assert "single-dash option -out=p.json: did you mean --out=p.json?" in proc.stderr
    assert not (tmp_path / "ut=p.json").exists() and not (tmp_path / "p.json").exists()
    proc = run("show", "plan.json", "-format", "json", cwd=tmp_path)
    assert proc.returncode == 1 and "did you mean --format?" in proc.stderr


@pytest.mark.parametrize(
    ("args", "refused"),
    [
        (["t.yaml", "-out"], True),
        (["t.yaml", "-refresh"], True),
        (["t.yaml", "-o", "p.json"], False),
        (["t.yaml", "-qo", "p.json"], False),  # short flags together
        (["t.yaml", "-sprod"], False),  # -s with its value attached
        (["t.yaml", "--env", "-out"], False),  # an option's value
        (["t.yaml", "--", "-out"], False),
        (["t.yaml", "-nosuch"], False),  # left to click's own "no such option"
    ],
)
def test_the_single_dash_rule(args: list[str], refused: bool) -> None:
    ctx = click.Context(cli)
    command = cli.get_command(ctx, "plan")  # commands are loaded when first looked up
    assert command is not None
    if refused:
        with pytest.raises(click.UsageError, match="did you mean --"):
            refuse_single_dash_long_options(ctx, command, args)
    else:
        refuse_single_dash_long_options(ctx, command, args)
