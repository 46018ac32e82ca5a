"""Saved plans: `styx plan -o plan.json`, then `styx apply plan.json` applies exactly that plan.

A saved plan (schemas/saved-plan.schema.json) holds the Plan (secrets already masked) and how
its target was resolved (task path, stack file, stack name, envs, vars, resource flags; secret
names, never values). Its paths are relative to the root of the git repository the task lives
in (else to the folder `styx plan` ran in), so CI can apply it from a fresh clone of the merge
commit. Applying it resolves the target again, from the root of the repository the command
runs in, and refuses when anything moved: the spec's fingerprint (task file, envs, vars,
flags, secrets' digests), the stack's version, or the steps a fresh preview finds.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from styx._fs import storage_error
from styx._resources import data_path
from styx.clouds.overrides import ResourceOverrides
from styx.errors import PlanError
from styx.plan import Plan, plan_from_dict, plan_schema
from styx.plan._json import canonical_dict
from styx.workflow._apply import ApplyResult, apply_planned
from styx.workflow._lock import stack_lock
from styx.workflow._plan import Planned, plan_target
from styx.workflow._progress import Reporter, silent
from styx.workflow._target import Target, TargetOptions, resolve_target

__all__ = [
    "SAVED_KIND",
    "SavedPlan",
    "apply_saved_plan",
    "is_saved_plan",
    "read_plan_file",
    "read_saved_plan",
    "repository_root",
    "saved_plan_schema",
    "write_saved_plan",
]

SAVED_KIND = "styx-saved-plan"
# 2: paths relative to the repository root (1 stored absolute paths, which tied a plan to
# the clone it was made in).
_FORMAT = 2


@cache
def saved_plan_schema() -> Mapping[str, Any]:
    """The parsed schemas/saved-plan.schema.json shipped with the package."""
    with data_path("schemas", "saved-plan.schema.json").open(encoding="utf-8") as stream:
        schema: dict[str, Any] = json.load(stream)
    return schema


@cache
def _validator() -> Draft202012Validator:
    plan = plan_schema()
    registry: Registry[Any] = Registry().with_resource(
        plan["$id"], Resource.from_contents(plan)
    )
    return Draft202012Validator(saved_plan_schema(), registry=registry)


def repository_root(start: Path) -> Path | None:
    """The top of the git work tree holding `start` (a folder or a file), if any."""
    start = start.resolve()
    for folder in [start, *start.parents]:
        if (folder / ".git").exists():  # a folder, or a file in worktrees and submodules
            return folder
    return None


def _portable(path: Path | None, root: Path) -> str | None:
    """`path` relative to `root` with `/` separators; absolute when it lies outside."""
    if path is None:
        return None
    absolute = path.resolve()
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return str(absolute)


def _located(stored: str | None, root: Path) -> Path | None:
    if stored is None:
        return None
    path = Path(stored)
    return path if path.is_absolute() else root.joinpath(*PurePosixPath(stored).parts)


@dataclass(frozen=True)
class SavedPlan:
    """A plan and the way to resolve its target again.

    `task`, `options.stack_file` and `options.env_file` are as stored: relative to a
    repository root (see `located`); `secrets` are names, read from the environment on apply.
    """

    plan: Plan
    task: str | None
    options: TargetOptions
    secrets: tuple[str, ...]
    refreshed: bool

    def to_dict(self) -> dict[str, Any]:
        o = self.options
        return {
            "kind": SAVED_KIND,
            "format_version": _FORMAT,
            "plan": canonical_dict(self.plan),
            "target": {
                "task": self.task,
                "stack_file": str(o.stack_file) if o.stack_file else None,
                "stack_name": o.stack_name,
                "env_overrides": dict(o.env_overrides),
                "env_file": str(o.env_file) if o.env_file else None,
                "variables": dict(o.variables),
                # Names only: on apply the values are read from the environment again.
                "secrets_from_environment": sorted(self.secrets),
                "overrides": asdict(o.overrides) if o.overrides else None,
                "refresh": self.refreshed,
                "paths_base": str(o.paths_base) if o.paths_base else None,
            },
        }

    def located(self, root: Path) -> tuple[Path | None, TargetOptions]:
        """The task and options with paths under `root` and secrets from the environment."""
        missing = [name for name in self.secrets if name not in os.environ]
        if missing:
            raise PlanError(
                f"needs the secret(s) {', '.join(missing)} in the environment, as they were "
                "given when it was planned"
            )
        stack_file = str(self.options.stack_file) if self.options.stack_file else None
        env_file = str(self.options.env_file) if self.options.env_file else None
        paths_base = str(self.options.paths_base) if self.options.paths_base else None
        options = replace(
            self.options,
            paths_base=_located(paths_base, root),
            stack_file=_located(stack_file, root),
            env_file=_located(env_file, root),
            secret_overrides={name: os.environ[name] for name in self.secrets},
        )
        return _located(self.task, root), options


def write_saved_plan(
    path: Path, planned: Planned, task: Path | None, options: TargetOptions
) -> None:
    """Write the plan file atomically (mode 0600: it names the stack and its backend).

    Paths are stored relative to the repository holding the task (else to the current
    folder), so the plan applies from another clone of the same commit.
    """
    task_path = task if task is not None else planned.target.spec.source
    root = repository_root(task_path.parent) or Path.cwd().resolve()
    stack_file = _portable(options.stack_file, root)
    env_file = _portable(options.env_file, root)
    saved = SavedPlan(
        plan=planned.plan.sorted(),
        task=_portable(task_path, root),
        options=TargetOptions(
            stack_file=Path(stack_file) if stack_file else None,
            stack_name=planned.target.ref.stack,
            env_overrides=dict(options.env_overrides),
            env_file=Path(env_file) if env_file else None,
            variables=dict(options.variables),
            overrides=options.overrides,
            # Relative paths resolved against the folder the plan was made in: pinned,
            # relative to the repository, so an apply from anywhere in a clone sees the same.
            paths_base=Path(_portable(options.paths_base or Path.cwd(), root) or "."),
        ),
        secrets=tuple(sorted(options.secret_overrides)),
        refreshed=planned.refreshed,
    )
    data = saved.to_dict()
    error = best_match(_validator().iter_errors(data))
    if error is not None:  # a bug in Styx, not in the input: say where
        raise PlanError(f"{path}: the plan to save fails saved-plan.schema.json: {error.message}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        tmp.replace(path)
    except OSError as err:
        with contextlib.suppress(OSError):  # nothing half-written stays behind
            tmp.unlink(missing_ok=True)
        raise storage_error(err, path) from err


def is_saved_plan(path: Path) -> bool:
    """Whether `path` is a saved plan (of any format version) rather than a task file."""
    if path.suffix != ".json" or not path.is_file():
        return False
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get("kind") == SAVED_KIND)
    except (ValueError, OSError, AttributeError):
        return False


def _where(parts: Any) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
    return text.lstrip(".") or "the top level"


def read_saved_plan(path: Path) -> SavedPlan:
    """Read and validate a plan file (no engine, no environment); PlanError when damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("kind") != SAVED_KIND:
            raise PlanError("not a Styx saved plan (no \"kind\": \"styx-saved-plan\")")
        if data.get("format_version") != _FORMAT:
            raise PlanError(
                f"a saved plan of format {data.get('format_version')!r}; this Styx reads "
                f"format {_FORMAT}: make it again with `styx plan -o`"
            )
        error = best_match(_validator().iter_errors(data))
        if error is not None:
            # The place, never the value: a plan file is no place to echo data.
            raise PlanError(
                f"not a valid saved plan: {_where(error.absolute_path)} fails the schema's "
                f"{error.validator!r} rule"
            )
        target = data["target"]
        overrides = target["overrides"]
        options = TargetOptions(
            stack_file=Path(target["stack_file"]) if target["stack_file"] else None,
            stack_name=target["stack_name"],
            env_overrides=dict(target["env_overrides"]),
            env_file=Path(target["env_file"]) if target["env_file"] else None,
            variables=dict(target["variables"]),
            overrides=ResourceOverrides(**overrides) if overrides else None,
            paths_base=Path(target["paths_base"]) if target["paths_base"] else None,
        )
        return SavedPlan(
            plan=plan_from_dict(data["plan"]),
            task=target["task"],
            options=options,
            secrets=tuple(target["secrets_from_environment"]),
            refreshed=bool(target["refresh"]),
        )
    except PlanError as err:
        raise PlanError(f"{path}: {err}") from err
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise PlanError(f"{path}: cannot read the saved plan ({err.__class__.__name__})") from err


def read_plan_file(path: Path) -> Plan:
    """The plan in a saved plan, or in `styx plan --format json` output; PlanError otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PlanError(f"not a saved plan: {path} ({err.__class__.__name__})") from err
    if isinstance(data, dict) and data.get("kind") == SAVED_KIND:
        return read_saved_plan(path).plan
    if isinstance(data, dict) and "format_version" in data and "steps" in data:
        try:
            return plan_from_dict(data)
        except PlanError as err:
            raise PlanError(f"{path}: {err}") from err
    raise PlanError(f"not a saved plan: {path} (make one with `styx plan TASK -o {path.name}`)")


def _shape(plan: Plan) -> tuple[Any, ...]:
    """What must be identical between the saved plan and a fresh one: every change.

    Steps are compared by resource, not by position: the engine plans independent
    resources in parallel, so their order differs from one preview to the next.
    """
    plan = plan.sorted()
    return (
        tuple(sorted(
            ((s.urn, s.action, s.changes, s.replace_reasons) for s in plan.changes),
            key=lambda step: step[0],
        )),
        tuple((c.field, c.nodes) for c in plan.node_changes),
        plan.setup_nodes,
    )


def apply_saved_plan(
    path: Path, *, reporter: Reporter | None = None, root: Path | None = None
) -> ApplyResult:
    """Apply the plan in `path` exactly, or refuse with PlanError saying what moved.

    Its paths are found under `root`: by default the repository the current folder is in
    (else the current folder), so a plan made in one clone applies from another.
    """
    reporter = reporter or silent()
    saved = read_saved_plan(path)
    root = root or repository_root(Path.cwd()) or Path.cwd().resolve()
    try:
        task, options = saved.located(root)
    except PlanError as err:
        raise PlanError(f"{path}: {err}") from err
    for name, found in (("task file", task), ("stack file", options.stack_file),
                        ("env file", options.env_file)):
        if found is not None and not found.is_file():
            commit = saved.plan.git_commit
            at = f" at commit {commit[:12]}" if commit else ""
            raise PlanError(
                f"{path}: the plan's {name} {found} is not there; apply it from the root of "
                f"a checkout of the repository it was planned in{at}"
            )
    target: Target = resolve_target(task, options)
    plan = saved.plan
    ref = target.ref
    if (plan.project, plan.stack) != (ref.project, ref.stack):
        raise PlanError(f"{path} is a plan for {plan.project}/{plan.stack}, not {ref.qualified}")
    with stack_lock(target.state_dir / "styx.lock", ref.qualified, "apply", backend=ref):
        fresh = plan_target(target, refresh=saved.refreshed, reporter=reporter)
        if fresh.plan.spec_hash != plan.spec_hash:
            raise PlanError(
                f"{path} is stale: the task changed since it was planned (its task file, envs, "
                "vars, flags or secrets); run `styx plan` again"
            )
        if fresh.plan.stack_version != plan.stack_version:
            raise PlanError(
                f"{path} is stale: it was made against version {plan.stack_version} of "
                f"{ref.qualified}, which is now at version {fresh.plan.stack_version}; "
                "run `styx plan` again"
            )
        if _shape(fresh.plan) != _shape(plan):
            raise PlanError(
                f"{path} is stale: the infrastructure changed outside Styx since it was "
                "planned, so applying now would do something else; run `styx plan` again"
            )
        return apply_planned(fresh, reporter=reporter)
