"""Resolve what a command acts on: the task's spec, its stack, and where the stack keeps files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

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
    "NameChoice",
    "Target",
    "TargetOptions",
    "choose_task_or_cluster",
    "git_commit",
    "known_clusters",
    "require_cluster",
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


def known_clusters(backend_url: str | None = None) -> list[str]:
    """The clusters a name can mean: the backend's stacks, and those only this host holds.

    A file backend's folder names its stacks without starting the engine; other backends
    are asked through it.
    """
    from styx.clouds import HOST_CLOUDS, cloud_named
    from styx.engine import file_backend_stacks

    url = backend_url or default_backend_url()
    names = file_backend_stacks(PROJECT, url)
    if names is None:
        from styx.engine import list_stacks  # the engine, only where the folder cannot say

        names = [listing.name for listing in list_stacks(PROJECT, url)]
    on_host = {n for cloud in HOST_CLOUDS for n in cloud_named(cloud).host_clusters()}
    return sorted(set(names) | on_host)


def require_cluster(name: str, backend_url: str | None = None) -> StackRef:
    """The stack of the cluster `name`; UnknownClusterError listing the known ones."""
    from styx.errors import UnknownClusterError

    known = known_clusters(backend_url)
    if name not in known:
        raise UnknownClusterError(name, known)
    return StackRef(PROJECT, name, backend_url or default_backend_url())


@dataclass(frozen=True)
class NameChoice:
    """What a command-line word names: a task file or a cluster; `note` says why when it
    could have been both."""

    kind: Literal["task", "cluster"]
    word: str
    note: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.word)


_YAML_SUFFIXES = (".yaml", ".yml")


def _is_task_file(word: str) -> bool:
    return Path(word).is_file()


def choose_task_or_cluster(word: str, backend_url: str | None = None) -> NameChoice:
    """A task file or a cluster, decided as SkyPilot decides an entrypoint.

    SkyPilot (`sky launch`, `sky exec`) reads a word as a task YAML when it is a file that
    exists, and otherwise as a cluster name or command; a word ending in .yaml/.yml that
    names no file is a missing task, not a cluster. A word that is both a file here and a
    cluster's name is the file, and the note says so and how to mean the cluster.
    """
    from styx.errors import StyxError

    is_file = _is_task_file(word)
    # A cluster name holds no '/', so a path with one can only be the file.
    known = known_clusters(backend_url) if "/" not in word else []
    is_cluster = word in known
    if is_file and is_cluster:
        return NameChoice("task", word, note=(
            f"{word} is both a task file here and a cluster's name: using the task file, "
            f"as SkyPilot does; for the cluster, pass -c {word}"))  # fmt: skip
    if is_file:
        return NameChoice("task", word)
    if is_cluster:
        return NameChoice("cluster", word)
    if word.endswith(_YAML_SUFFIXES) or "/" in word or Path(word).exists():
        what = "is a folder, not a task file" if Path(word).is_dir() else "does not exist"
        raise StyxError(f"task file {word} {what}")
    from styx.errors import UnknownClusterError

    raise UnknownClusterError(word, known)


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
