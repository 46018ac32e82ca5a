"""Start-up: the pure commands load no Pulumi, pulumi_aws or ansible; `--help` lists
commands from their summaries, which stay equal to the commands' own help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from styx.cli import _COMMANDS, cli

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("pulumi", "pulumi_aws", "ansible", "ansible_runner", "grpc")


def _imported(args: list[str], home: Path) -> set[str]:
    """Top-level packages a `styx ARGS` process imports, from `python -X importtime`."""
    code = "import sys\nfrom styx.cli import main\nmain(sys.argv[1:])\n"
    env = {**os.environ, "STYX_HOME": str(home), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *args],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:")}
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("args", [["--help"], ["validate", "examples/hello.yaml"],
                                  ["validate", "--help"], ["--version"]])
def test_pure_commands_load_no_engine_cloud_sdk_or_ansible(
    args: list[str], tmp_path: Path
) -> None:
    loaded = _imported(args, tmp_path)
    assert "styx" in loaded  # the measurement sees our own imports
    assert sorted(loaded & set(HEAVY)) == []


@pytest.mark.parametrize("args", [["compile", "examples/hello.yaml", "--cloud", "local"],
                                  ["status"]])
def test_compile_and_status_of_an_empty_home_load_no_engine(
    args: list[str], tmp_path: Path
) -> None:
    assert sorted(_imported(args, tmp_path) & set(HEAVY)) == []


def test_validating_a_file_that_is_no_template_loads_no_jinja(tmp_path: Path) -> None:
    # Jinja costs a fifth of `styx validate`'s start-up; plain task files never need it.
    assert "jinja2" not in _imported(["validate", "examples/hello.yaml"], tmp_path)
    template = tmp_path / "templated.yaml"
    template.write_text("name: t\nrun: echo {{ 'hi' }}\n")
    assert "jinja2" in _imported(["validate", str(template)], tmp_path)


def test_the_command_table_matches_the_commands() -> None:
    ctx = click.Context(cli)
    for name, (_module, _attribute, summary) in _COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=1000) == summary, name


def test_help_lists_every_command_with_its_summary() -> None:
    text = cli.get_help(click.Context(cli, info_name="styx"))
    for name in _COMMANDS:
        assert f"  {name} " in text
    assert "Show what `styx apply` would change" in text


def test_validating_a_valid_file_loads_no_jsonschema(tmp_path: Path) -> None:
    # jsonschema is half of `styx validate`'s start-up; only an invalid file needs its errors.
    assert "jsonschema" not in _imported(["validate", "examples/hello.yaml"], tmp_path)
    for example in sorted((ROOT / "examples").glob("*.yaml"))[:5]:
        assert "jsonschema" not in _imported(["validate", str(example)], tmp_path), example
