"""Resolve what a command acts on: the task's spec, its stack, and where the stack keeps files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from styx.clouds.overrides import ResourceOverrides, apply_overrides
from styx.engine import StackRef, default_backend_url
from styx.home import styx_home
from styx.spec import (
    DEFAULT_AUTOSTOP_MINUTES,
    Autostop,
    Spec,
    StackFile,
    load_stack,
    load_task,
)

__all__ = [
    "PROJECT",
    "AutostopOverride",
    "Target",
    "TargetOptions",
    "git_commit",
    "resolve_name",
    "resolve_target",
    "stack_dir",
]

# One Pulumi project holds every Styx cluster; a stack is one cluster.
PROJECT = "styx"


@dataclass(frozen=True)
class TargetOptions:
    """What the command line (or a script) says beside the task file."""

    stack_file: Path | None = None
    stack_name: str | None = None
    env_overrides: Mapping[str, str] = field(default_factory=dict)
    env_file: Path | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    secret_overrides: Mapping[str, str] = field(default_factory=dict)
    overrides: ResourceOverrides | None = None  # --cloud, --gpus, --num-nodes ... win over the task
    # Where relative local paths resolve; None: the directory Styx runs in (a saved plan
    # pins the folder it was planned from).
    paths_base: Path | None = None
    # -i/--idle-minutes-to-autostop, --down, --cancel: win over the task's autostop.
    autostop: AutostopOverride | None = None
    # `styx stop` plans every node stopped; `styx start` (and apply) running.
    node_state: str = "running"


@dataclass(frozen=True)
class AutostopOverride:
    """Autostop flags, as SkyPilot's: -i N, --down, or cancel (no autostop)."""

    idle_minutes: int | None = None
    down: bool | None = None
    cancel: bool = False

    def apply(self, spec: Spec) -> Spec:
        """The spec with its autostop (and every candidate's) replaced as the flags say.

        --down alone keeps the task's idle minutes (SkyPilot's default of 5 when it names
        none), rather than SkyPilot's 0, which would stop a cluster before `launch` queues
        its job.
        """
        if self.cancel:
            new: Autostop | None = None
        else:
            old = spec.resources.autostop
            minutes = self.idle_minutes if self.idle_minutes is not None else (
                old.idle_minutes if old is not None else DEFAULT_AUTOSTOP_MINUTES)
            down = self.down if self.down is not None else (old.down if old else False)
            new = Autostop(minutes, down) if old is None else Autostop(minutes, down, old.wait_for)
        candidates = tuple(replace(c, autostop=new) for c in spec.candidates)
        return replace(spec, resources=replace(spec.resources, autostop=new),
                       candidates=candidates)


@dataclass(frozen=True)
class Target:
    """A task resolved against its stack: the spec to realise and the stack that records it."""

    spec: Spec
    ref: StackRef
    stack_file: StackFile | None = None
    node_state: str = "running"  # what the plan asks of every node: running | stopped

    @property
    def cluster(self) -> str:
        return self.ref.stack

    @property
    def state_dir(self) -> Path:
        return stack_dir(self.ref)


def stack_dir(ref: StackRef) -> Path:
    """Where a stack's local files live: inventories, ansible runs, job logs."""
    return styx_home() / "stacks" / ref.project / ref.stack


def resolve_name(spec: Spec) -> str:
    """The stack (cluster) name a task gets when no stack name is given."""
    return _stack_name(spec)


def _stack_name(spec: Spec) -> str:
    raw = spec.name or spec.source.stem
    # Pulumi stack names allow letters, digits, '-', '_' and '.'; so do cluster names.
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in raw).strip("-.")
    return cleaned or "default"


def resolve_target(task: Path | None, options: TargetOptions = TargetOptions()) -> Target:
    """Load the task (and the stack file, if any) into a Target; raises SpecError on bad input."""
    stack_file = load_stack(options.stack_file) if options.stack_file is not None else None
    task_path = task if task is not None else (stack_file.task if stack_file else None)
    if task_path is None:
        from styx.errors import StyxError

        raise StyxError("name a task file, or a stack file (--stack-file) that names one")
    # The stack's envs, vars, cloud and region apply first; the command line wins over them.
    spec = load_task(
        task_path,
        env_overrides=options.env_overrides,
        env_file=options.env_file,
        variables=options.variables,
        secret_overrides=options.secret_overrides,
        stack=stack_file,
        paths_base=options.paths_base,
    )
    if options.overrides is not None:
        spec = apply_overrides(spec, options.overrides)
    if options.autostop is not None:
        if options.autostop.idle_minutes is not None and options.autostop.idle_minutes < 0:
            from styx.errors import StyxError

            raise StyxError("-i/--idle-minutes-to-autostop takes minutes >= 0")
        spec = options.autostop.apply(spec)
    name = options.stack_name or (stack_file.name if stack_file else None) or _stack_name(spec)
    backend = (stack_file.backend_url if stack_file else None) or default_backend_url()
    passphrase = stack_file.passphrase_file if stack_file else None
    return Target(spec, StackRef(PROJECT, name, backend, passphrase), stack_file,
                  options.node_state)


def git_commit(path: Path) -> str | None:
    """The commit of the repository holding `path`, read from .git (no git process started)."""
    for folder in [path.resolve().parent, *path.resolve().parents]:
        dot_git = folder / ".git"
        if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
            dot_git = (folder / dot_git.read_text().split(":", 1)[1].strip()).resolve()
        if not dot_git.is_dir():
            continue
        head = (dot_git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head or None
        ref = head.split(":", 1)[1].strip()
        loose = dot_git / ref
        if loose.is_file():
            return loose.read_text().strip() or None
        packed = dot_git / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                sha, _, name = line.partition(" ")
                if name == ref:
                    return sha
        return None
    return None
