"""Options every task command shares, and the terminal reporter they print progress with."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from styx.cli._overrides import resource_override_options
from styx.clouds.overrides import ResourceOverrides
from styx.errors import StyxError

if TYPE_CHECKING:
    # styx.workflow brings the engine and ansible; `styx` loads this module for every
    # command (use_color), so the workflow is imported where a command uses it.
    from styx.workflow import Reporter, Target, TargetOptions

__all__ = [
    "TaskArgs",
    "target_options",
    "target_options_without_task",
    "terminal_reporter",
    "use_color",
]

F = TypeVar("F", bound=Callable[..., Any])


def _pairs(values: tuple[str, ...], flag: str, *, bare_from_env: bool = False) -> dict[str, str]:
    """KEY=VALUE items; with bare_from_env a lone KEY takes its value from the environment."""
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not key or (not sep and not bare_from_env):
            raise StyxError(f"{flag} takes KEY=VALUE, got {item!r}")
        if not sep:
            if key not in os.environ:
                raise StyxError(f"{flag} {key}: no {key} in the environment to take it from")
            value = os.environ[key]
        out[key] = value
    return out


@dataclass(frozen=True)
class TaskArgs:
    """TASK and the options that say how to read it; resolved inside the command."""

    task: Path | None
    options: TargetOptions

    def resolve(self) -> Target:
        from styx.workflow import resolve_target

        return resolve_target(self.task, self.options)


_TASK = click.argument("task", type=click.Path(path_type=Path), required=False)
_OPTIONS = (
    click.option("--stack-file", type=click.Path(path_type=Path, dir_okay=False),
                 help="A stack file (stacks/*.yaml): task, cloud, backend, vars."),
    click.option("-c", "--cluster", "-s", "--stack", "stack_name", metavar="NAME",
                 help="The cluster's (stack's) name; default: the task's name, else its "
                      "file stem."),
    click.option("--env", "envs", multiple=True, metavar="KEY[=VAL]",
                 help="Set or override an env of the task; a bare KEY is read from your "
                      "environment (repeatable)."),
    click.option("--secret", "secrets", multiple=True, metavar="KEY[=VAL]",
                 help="Set a secret of the task; a bare KEY is read from your environment, "
                      "so the value never sits in shell history (repeatable)."),
    click.option("--env-file", type=click.Path(path_type=Path, dir_okay=False),
                 help="Read envs from a dotenv file."),
    click.option("--var", "variables", multiple=True, metavar="KEY=VAL",
                 help="A jinja2 variable for a parameterised task (repeatable)."),
)


def target_options(func: F) -> F:
    """TASK, the stack and variable options and SkyPilot's resource flags, as `task_args`."""
    return _with_options(func, with_task=True)


def target_options_without_task(func: F) -> F:
    """The options of `target_options` without the TASK argument (the command reads its
    own arguments: `styx exec CLUSTER COMMAND`); `task_args.task` is None."""
    return _with_options(func, with_task=False)


def _with_options(func: F, *, with_task: bool) -> F:
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        stack_file: Path | None,
        stack_name: str | None,
        envs: tuple[str, ...],
        secrets: tuple[str, ...],
        env_file: Path | None,
        variables: tuple[str, ...],
        overrides: ResourceOverrides,
        task: Path | None = None,
        **rest: Any,
    ) -> Any:
        from styx.workflow import TargetOptions

        options = TargetOptions(
            stack_file=stack_file,
            stack_name=stack_name,
            env_overrides=_pairs(envs, "--env", bare_from_env=True),
            secret_overrides=_pairs(secrets, "--secret", bare_from_env=True),
            env_file=env_file,
            variables=_pairs(variables, "--var"),
            overrides=overrides,
        )
        return func(*args, task_args=TaskArgs(task, options), **rest)

    decorated: Any = resource_override_options(wrapper)
    for option in reversed((_TASK, *_OPTIONS) if with_task else _OPTIONS):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


def use_color(stream: TextIO | None = None) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set to anything (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream or sys.stdout, "isatty", None)
    return bool(isatty is not None and isatty())


def terminal_reporter(quiet: bool = False) -> Reporter:
    """Progress to stderr (so stdout stays the plan or the job's output); quiet drops it."""
    color = use_color()

    def info(line: str) -> None:
        if not quiet:
            click.echo(click.style(line, dim=True) if color else line, err=True)

    def output(node: str, line: str) -> None:
        prefix = f"({node})"
        click.echo(f"{click.style(prefix, fg='cyan') if color else prefix} {line}")

    from styx.workflow import Reporter

    return Reporter(info=info, output=output)
