"""Options every task command shares, and the terminal reporter they print progress with."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from styx.errors import StyxError
from styx.workflow import Reporter, Target, TargetOptions, resolve_target

__all__ = ["resolve", "target_options", "terminal_reporter"]

F = TypeVar("F", bound=Callable[..., Any])


def _pairs(values: tuple[str, ...], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise StyxError(f"{flag} takes KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def target_options(func: F) -> F:
    """TASK plus the stack and variable options, in the order `--help` shows them."""
    decorators = [
        click.argument("task", type=click.Path(path_type=Path), required=False),
        click.option("--stack-file", type=click.Path(path_type=Path, dir_okay=False),
                     help="A stack file (stacks/*.yaml): task, cloud, backend, vars."),
        click.option("-s", "--stack", "stack_name",
                     help="Stack (cluster) name; default: the task's name, else its file stem."),
        click.option("--env", "envs", multiple=True, metavar="KEY=VAL",
                     help="Set or override an env of the task (repeatable)."),
        click.option("--env-file", type=click.Path(path_type=Path, dir_okay=False),
                     help="Read envs from a dotenv file."),
        click.option("--var", "variables", multiple=True, metavar="KEY=VAL",
                     help="A jinja2 variable for a parameterised task (repeatable)."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def resolve(
    task: Path | None,
    stack_file: Path | None,
    stack_name: str | None,
    envs: tuple[str, ...],
    env_file: Path | None,
    variables: tuple[str, ...],
) -> Target:
    return resolve_target(
        task,
        TargetOptions(
            stack_file=stack_file,
            stack_name=stack_name,
            env_overrides=_pairs(envs, "--env"),
            env_file=env_file,
            variables=_pairs(variables, "--var"),
        ),
    )


def terminal_reporter(quiet: bool = False) -> Reporter:
    """Progress to stderr (so stdout stays the plan or the job's output); quiet drops it."""
    color = sys.stdout.isatty()

    def info(line: str) -> None:
        if not quiet:
            click.echo(click.style(line, dim=True) if color else line, err=True)

    def output(node: str, line: str) -> None:
        prefix = f"({node})"
        click.echo(f"{click.style(prefix, fg='cyan') if color else prefix} {line}")

    return Reporter(info=info, output=output)
