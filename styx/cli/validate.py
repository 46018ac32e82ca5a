"""`styx validate`: load a task (and stack) file and print the resolved spec or every error."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from styx.errors import SpecError, SpecIssue
from styx.spec import Resources, Spec, StackFile, load_stack, load_task

__all__ = ["validate_command"]


def _pairs(values: Sequence[str], option: str, *, from_environment: bool) -> dict[str, str]:
    """KEY=VALUE options; a bare KEY takes the value of the local environment variable."""
    result: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            if not from_environment:
                raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=option)
            if key not in os.environ:
                raise click.BadParameter(f"{key} is not set in the environment; "
                                         f"use {option} {key}=VALUE", param_hint=option)
            value = os.environ[key]
        result[key] = value
    return result


@click.command("validate")
@click.argument("task", required=False, type=click.Path(path_type=Path))
@click.option("--stack", "stack_path", type=click.Path(path_type=Path),
              help="Stack file: its task (when TASK is not given), vars, envs, cloud, region.")
@click.option("--env", "envs", multiple=True, metavar="KEY[=VALUE]",
              help="Set an env (a bare KEY copies it from this shell). Repeatable.")
@click.option("--env-file", type=click.Path(path_type=Path),
              help="dotenv file of envs (KEY=VALUE lines); --env wins over it.")
@click.option("--secret", "secrets", multiple=True, metavar="KEY[=VALUE]",
              help="Set a secret (a bare KEY copies it from this shell). Repeatable.")
@click.option("--var", "variables", multiple=True, metavar="KEY=VALUE",
              help="Set a template variable ({{ KEY }} in the task file). Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print {valid, spec, errors} as JSON.")
@click.pass_context
def validate_command(ctx: click.Context, task: Path | None, stack_path: Path | None,
                     envs: tuple[str, ...], env_file: Path | None, secrets: tuple[str, ...],
                     variables: tuple[str, ...], as_json: bool) -> None:
    """Check TASK (SkyPilot's task YAML) and show what Styx understood.

    Exits 0 when the task is valid and 1 otherwise, listing every problem with its file,
    line, column and field. Secret values are never printed.
    """
    if task is None and stack_path is None:
        raise click.UsageError("give a TASK file, or --stack FILE whose `task:` names one")
    env_values = _pairs(envs, "--env", from_environment=True)
    secret_values = _pairs(secrets, "--secret", from_environment=True)
    var_values = _pairs(variables, "--var", from_environment=False)
    stack: StackFile | None = None
    try:
        if stack_path is not None:
            stack = load_stack(stack_path)
        task_path = task if task is not None or stack is None else stack.task
        if task_path is None:  # unreachable after the usage check; keeps the types honest
            raise click.UsageError("no task file")
        spec = load_task(task_path, env_overrides=env_values, env_file=env_file,
                         variables=var_values, secret_overrides=secret_values, stack=stack)
    except SpecError as err:
        _report_errors(err.issues, as_json=as_json)
        ctx.exit(1)
    if as_json:
        click.echo(json.dumps({"valid": True, "fingerprint": spec.fingerprint(),
                               "spec": spec.to_dict(), "errors": [],
                               "warnings": list(spec.warnings)}, indent=2))
    else:
        _print_summary(spec, task_path, stack)
        # What the task asks that Styx reads and ignores (config keys, ...): the plan says it too.
        for warning in spec.warnings:
            click.secho(f"warning: {warning}", fg="yellow", err=True)


def _report_errors(issues: Sequence[SpecIssue], *, as_json: bool) -> None:
    if as_json:
        rows = [{"path": i.path, "line": i.line, "column": i.column, "field": i.field,
                 "message": i.message} for i in issues]
        click.echo(json.dumps({"valid": False, "spec": None, "errors": rows}, indent=2))
        return
    for issue in issues:
        click.secho(f"error: {issue}", fg="red", err=True)
    count = len(issues)
    click.secho(f"{count} error{'s' if count != 1 else ''}", fg="red", err=True)


def _describe(resources: Resources) -> str:
    where = resources.cloud or "local (default)"
    for part in (resources.region, resources.zone):
        if part:
            where += f"/{part}"
    parts: list[str] = [where]
    if resources.instance_type:
        parts.append(resources.instance_type)
    if resources.cpus is not None:
        parts.append(f"cpus {resources.cpus}")
    if resources.memory is not None:
        parts.append(f"memory {resources.memory} GiB")
    if resources.accelerator is not None:
        parts.append(str(resources.accelerator))
    if resources.use_spot:
        parts.append("spot")
    if resources.disk_size_gb is not None:
        parts.append(f"disk {resources.disk_size_gb} GB" +
                     (f" {resources.disk_tier}" if resources.disk_tier else ""))
    if resources.ports:
        parts.append("ports " + ",".join(str(p) for p in resources.ports))
    if resources.autostop is not None:
        stop = resources.autostop
        verb = "autodown" if stop.down else "autostop"
        parts.append(f"{verb} {stop.idle_minutes}m ({stop.wait_for})")
    return ", ".join(parts)


def _lines(text: str | None) -> str:
    if text is None:
        return "-"
    count = len(text.splitlines())
    return f"{count} line{'s' if count != 1 else ''}"


def _print_summary(spec: Spec, task: Path, stack: StackFile | None) -> None:
    click.secho(f"✓ {task} is valid", fg="green")
    rows: list[tuple[str, Any]] = [
        ("name", spec.name or "-"),
        *([("stack", f"{stack.name} ({stack.source})")] if stack is not None else []),
        ("nodes", spec.num_nodes),
        ("resources", _describe(spec.resources)),
    ]
    if len(spec.candidates) > 1:
        order = "in order" if spec.candidates_ordered else "any of"
        rows.append(("candidates", f"{len(spec.candidates)} ({order})"))
        rows.extend((f"  {n}.", _describe(c)) for n, c in enumerate(spec.candidates, start=1))
    rows += [
        ("envs", ", ".join(spec.envs) or "-"),
        # Names only: values of secrets never reach the terminal.
        ("secrets", ", ".join(spec.secrets) or "-"),
        ("workdir", _from_root(str(spec.workdir)) if spec.workdir else "-"),
        ("file_mounts", (len(spec.file_mounts) + len(spec.storage)) or "-"),
        ("setup", _lines(spec.setup)),
        ("run", _lines(spec.run)),
        ("fingerprint", spec.fingerprint()[:16]),
    ]
    for label, value in rows:
        click.echo(f"  {label:<12} {value}")
    for dst, src in spec.file_mounts.items():
        click.echo(f"  {'':<12} {dst} <- {_from_root(src)}")
    for dst, mount in spec.storage.items():
        click.echo(f"  {'':<12} {dst} <- {mount.describe()}")


def _from_root(path: str) -> str:
    """A local path as the repository (the git checkout around the working directory) names it.

    Relative paths resolve against the working directory, as with `sky`; showing them from
    the repository's root says what was picked without the machine's absolute prefix.
    """
    here = Path.cwd()
    root = next((d for d in (here, *here.parents) if (d / ".git").exists()), None)
    if root is None or not Path(path).is_relative_to(root):
        return path
    relative = Path(path).relative_to(root).as_posix()
    return "./" if relative == "." else f"./{relative}"
