"""Saved plans: `styx plan -o plan.json`, then `styx apply plan.json` applies exactly that plan.

A saved plan holds the Plan (secrets already masked) and how its target was resolved (task
path, stack file, stack name, envs, vars, resource flags; never secret values). Applying it
resolves the target again and refuses when anything moved: the spec's fingerprint (task file,
envs, vars, flags, secrets' digests), the stack's version, or the steps a fresh preview finds.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from styx._fs import storage_error
from styx.clouds.overrides import ResourceOverrides
from styx.errors import PlanError
from styx.plan import Plan, plan_from_dict
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
    "read_saved_plan",
    "write_saved_plan",
]

SAVED_KIND = "styx-saved-plan"
_FORMAT = 1


@dataclass(frozen=True)
class SavedPlan:
    """A plan and the way to resolve its target again."""

    plan: Plan
    task: Path | None
    options: TargetOptions
    refreshed: bool

    def to_dict(self) -> dict[str, Any]:
        o = self.options
        return {
            "kind": SAVED_KIND,
            "format_version": _FORMAT,
            "plan": self.plan.to_dict(),
            "target": {
                "task": str(self.task) if self.task else None,
                "stack_file": str(o.stack_file) if o.stack_file else None,
                "stack_name": o.stack_name,
                "env_overrides": dict(o.env_overrides),
                "env_file": str(o.env_file) if o.env_file else None,
                "variables": dict(o.variables),
                # Names only: on apply the values are read from the environment again.
                "secrets_from_environment": sorted(o.secret_overrides),
                "overrides": asdict(o.overrides) if o.overrides else None,
                "refresh": self.refreshed,
            },
        }


def _absolute(path: Path | None) -> Path | None:
    return path.resolve() if path is not None else None


def write_saved_plan(
    path: Path, planned: Planned, task: Path | None, options: TargetOptions
) -> None:
    """Write the plan file atomically (mode 0600: it names the stack and its backend)."""
    saved = SavedPlan(
        plan=planned.plan,
        task=_absolute(task) if task else planned.target.spec.source,
        options=TargetOptions(
            stack_file=_absolute(options.stack_file),
            stack_name=planned.target.ref.stack,
            env_overrides=dict(options.env_overrides),
            env_file=_absolute(options.env_file),
            variables=dict(options.variables),
            secret_overrides=dict(options.secret_overrides),
            overrides=options.overrides,
        ),
        refreshed=planned.refreshed,
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(saved.to_dict(), handle, indent=2)
            handle.write("\n")
        tmp.replace(path)
    except OSError as err:
        with contextlib.suppress(OSError):  # nothing half-written stays behind
            tmp.unlink(missing_ok=True)
        raise storage_error(err, path) from err


def is_saved_plan(path: Path) -> bool:
    """Whether `path` is a saved plan rather than a task file."""
    if path.suffix != ".json" or not path.is_file():
        return False
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get("kind") == SAVED_KIND)
    except (ValueError, OSError, AttributeError):
        return False


def read_saved_plan(path: Path) -> SavedPlan:
    """Read a plan file; PlanError when it is not one or is damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("kind") != SAVED_KIND or data.get("format_version") != _FORMAT:
            raise PlanError(f"not a Styx saved plan of format {_FORMAT}")
        target = data["target"]
        overrides = target.get("overrides")
        names = target.get("secrets_from_environment") or []
        missing = [name for name in names if name not in os.environ]
        if missing:
            raise PlanError(
                f"needs the secret(s) {', '.join(missing)} in the environment, as they were "
                "given when it was planned"
            )
        options = TargetOptions(
            stack_file=Path(target["stack_file"]) if target.get("stack_file") else None,
            stack_name=target.get("stack_name"),
            env_overrides=dict(target.get("env_overrides") or {}),
            env_file=Path(target["env_file"]) if target.get("env_file") else None,
            variables=dict(target.get("variables") or {}),
            secret_overrides={name: os.environ[name] for name in names},
            overrides=ResourceOverrides(**overrides) if overrides else None,
        )
        return SavedPlan(
            plan=plan_from_dict(data["plan"]),
            task=Path(target["task"]) if target.get("task") else None,
            options=options,
            refreshed=bool(target.get("refresh")),
        )
    except PlanError as err:
        raise PlanError(f"{path}: {err}") from err
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise PlanError(f"{path}: cannot read the saved plan ({err.__class__.__name__})") from err


def _shape(plan: Plan) -> tuple[Any, ...]:
    """What must be identical between the saved plan and a fresh one: every change.

    Steps are compared by resource, not by position: the engine plans independent
    resources in parallel, so their order differs from one preview to the next.
    """
    return (
        tuple(sorted(
            ((s.urn, s.action, s.changes, s.replace_reasons) for s in plan.changes),
            key=lambda step: step[0],
        )),
        tuple((c.field, c.nodes) for c in plan.node_changes),
        plan.setup_nodes,
    )


def apply_saved_plan(path: Path, *, reporter: Reporter | None = None) -> ApplyResult:
    """Apply the plan in `path` exactly, or refuse with PlanError saying what moved."""
    reporter = reporter or silent()
    saved = read_saved_plan(path)
    target: Target = resolve_target(saved.task, saved.options)
    plan = saved.plan
    ref = target.ref
    if (plan.project, plan.stack) != (ref.project, ref.stack):
        raise PlanError(f"{path} is a plan for {plan.project}/{plan.stack}, not {ref.qualified}")
    with stack_lock(target.state_dir / "styx.lock", ref.qualified, "apply"):
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
