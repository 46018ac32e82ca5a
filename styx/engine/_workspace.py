"""Open a Pulumi stack for an inline program: backend, passphrase, engine and environment."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pulumi import automation as auto

from styx._fs import storage, storage_error
from styx.engine._errors import classify
from styx.engine._install import Engine, engine_bin_dir, find_engine, sdk_version
from styx.errors import EngineNotFoundError, PassphraseError
from styx.home import styx_home
from styx.retention import RetentionPolicy, engine_log_settings

__all__ = [
    "StackListing",
    "StackRef",
    "default_backend_url",
    "ensure_passphrase_file",
    "file_backend_stacks",
    "list_stacks",
    "open_stack",
]

Program = Callable[[], None]


def default_backend_url() -> str:
    """The file backend every stack uses unless a stack file names another."""
    return (styx_home() / "state").as_uri()


PASSPHRASE_VARIABLE = "STYX_PASSPHRASE"


def ensure_passphrase_file(path: Path | None = None, *, backend_url: str | None = None,
                           project: str | None = None) -> Path:
    """The passphrase that encrypts the stack's secrets: generated once, mode 0600.

    Generated only while the backend holds no stacks: a new passphrase cannot decrypt the
    old ones, so a missing file then is a PassphraseError saying how to restore it.
    """
    target = path or styx_home() / "passphrase"
    if target.is_file():
        return target
    if backend_url is not None and _holds_stacks(backend_url, project):
        raise PassphraseError(
            f"the passphrase file {target} is missing, but {backend_url} holds stacks "
            f"encrypted with it; restore the file from a backup, or give the passphrase in "
            f"{PASSPHRASE_VARIABLE} (or passphrase_file in the stack file). Styx does not "
            "make a new one: it could not decrypt those stacks", path=str(target))
    with storage(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes racing to create it must not overwrite each other's secret.
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return target
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
    return target


def file_backend_stacks(project: str, backend_url: str) -> list[str] | None:
    """The stack names of `project` read from a file backend's folder (None for others).

    For when the engine cannot list them: one unreadable checkpoint fails `stack ls`.
    """
    if not backend_url.startswith("file://"):
        return None
    folder = Path(backend_url.removeprefix("file://")) / ".pulumi" / "stacks" / project
    if not folder.is_dir():
        return []
    names = {p.name.split(".json")[0] for p in folder.iterdir()
             if p.name.endswith((".json", ".json.gz"))}
    return sorted(names)


def _holds_stacks(backend_url: str, project: str | None) -> bool:
    """Whether the backend has any stack (whose secrets a passphrase already encrypts)."""
    if backend_url.startswith("file://"):
        stacks = Path(backend_url.removeprefix("file://")) / ".pulumi" / "stacks"
        return stacks.is_dir() and any(p.is_file() for p in stacks.rglob("*.json*"))
    # Listing never decrypts, so it works before any passphrase exists.
    return bool(_list(project or "styx", backend_url, None))


def _passphrase_env(ref_file: Path | None, backend_url: str, project: str | None,
                    engine: Engine) -> dict[str, str]:
    """The engine's environment, with the passphrase from STYX_PASSPHRASE when set.

    That value goes only to the engine's environment, never to a file.
    """
    given = os.environ.get(PASSPHRASE_VARIABLE)
    if given:
        env = _engine_env(engine, ref_file or styx_home() / "passphrase")
        env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
        env["PULUMI_CONFIG_PASSPHRASE"] = given
        return env
    passphrase = ensure_passphrase_file(ref_file, backend_url=backend_url, project=project)
    return _engine_env(engine, passphrase)


@dataclass(frozen=True)
class StackRef:
    """Which stack: a project, a stack name within it, and where its state lives."""

    project: str
    stack: str
    backend_url: str = field(default_factory=default_backend_url)
    passphrase_file: Path | None = None

    @property
    def qualified(self) -> str:
        return f"{self.project}/{self.stack}"


def _engine_env(engine: Engine, passphrase_file: Path) -> dict[str, str]:
    bin_dirs = [str(engine_bin_dir(sdk_version())), str(engine.bin_dir)]
    # The engine's debug log: off (and no time spent writing it) unless STYX_DEBUG is set.
    log_settings = engine_log_settings(RetentionPolicy.from_env())
    return {
        **log_settings,
        "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase_file),
        # Keep the engine's own files (plugins, credentials, logs) under STYX_HOME.
        "PULUMI_HOME": str(styx_home() / "pulumi"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        # No plugin can be downloaded here; fail fast with our own message instead.
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        # The dynamic-provider shim runs this interpreter, so providers import our styx.
        "STYX_PYTHON": sys.executable,
        "PATH": os.pathsep.join([*bin_dirs, os.environ.get("PATH", "")]),
    }


def _supervised_root(engine: Engine) -> Path:
    """A folder whose bin/pulumi runs the engine under Styx's supervisor (styx/_supervise.py),
    so an engine whose Styx was killed cancels cleanly instead of dying mid-update."""
    import hashlib
    import shlex

    from styx import _supervise

    script = Path(_supervise.__file__).resolve()
    key = hashlib.sha256(f"{engine.path}\0{sys.executable}\0{script}".encode()).hexdigest()
    root = styx_home() / "engine" / "supervised" / key[:16]
    wrapper = root / "bin" / "pulumi"
    text = (
        "#!/bin/sh\n# Written by Styx: the engine, stopped cleanly when Styx ends.\n"
        f"exec {shlex.quote(sys.executable)} -I -S {shlex.quote(str(script))} --interrupt "
        f"--grace 120 -- {shlex.quote(str(engine.path))} \"$@\"\n"
    )
    if not wrapper.is_file() or wrapper.read_text(encoding="utf-8") != text:
        wrapper.parent.mkdir(parents=True, exist_ok=True)
        tmp = wrapper.with_name(f".pulumi.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o755)
        os.replace(tmp, wrapper)
    return root


def _reads_only() -> None:
    """The program of a stack opened to read or destroy it: those never run a program."""


def open_stack(
    ref: StackRef, program: Program | None = None, *, create: bool = True
) -> auto.Stack:
    """Select (or create) the stack for `program`; raises StyxError subclasses, never raw ones.

    Without a program the stack is opened to read it (outputs, history) or destroy it.
    """
    program = program or _reads_only
    engine = find_engine()
    if engine is None:
        raise EngineNotFoundError(
            f"no Pulumi engine {sdk_version()} found; run `styx engine install`"
        )
    with storage():
        if ref.backend_url.startswith("file://"):
            Path(ref.backend_url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        env = _passphrase_env(ref.passphrase_file, ref.backend_url, ref.project, engine)
        work_dir = styx_home() / "workspaces" / ref.project
        work_dir.mkdir(parents=True, exist_ok=True)
    options = auto.LocalWorkspaceOptions(
        work_dir=str(work_dir),
        pulumi_home=env["PULUMI_HOME"],
        env_vars=env,
        secrets_provider="passphrase",
        pulumi_command=auto.PulumiCommand(root=str(_supervised_root(engine))),
        project_settings=auto.ProjectSettings(
            name=ref.project,
            runtime="python",
            backend=auto.ProjectBackend(url=ref.backend_url),
        ),
    )
    try:
        if create:
            return auto.create_or_select_stack(
                stack_name=ref.stack, project_name=ref.project, program=program, opts=options
            )
        return auto.select_stack(
            stack_name=ref.stack, project_name=ref.project, program=program, opts=options
        )
    except auto.errors.CommandError as err:
        raise classify(err, ref.qualified) from err
    except OSError as err:  # the SDK writes Pulumi.yaml into the work folder
        raise storage_error(err) from err


def stack_env(ref: StackRef) -> Mapping[str, str]:
    """The environment the engine runs with for this stack (for tools that call it directly)."""
    engine = find_engine()
    if engine is None:
        raise EngineNotFoundError("no Pulumi engine found; run `styx engine install`")
    with storage():
        return _passphrase_env(ref.passphrase_file, ref.backend_url, ref.project, engine)


@dataclass(frozen=True)
class StackListing:
    """A stack in a backend, as the engine lists it."""

    name: str
    last_update: datetime | None
    resource_count: int | None
    update_in_progress: bool


def list_stacks(project: str, backend_url: str | None = None) -> list[StackListing]:
    """Every stack of `project` in the backend (the default file backend unless named)."""
    url = backend_url or default_backend_url()
    engine = find_engine()
    if engine is None:
        raise EngineNotFoundError("no Pulumi engine found; run `styx engine install`")
    with storage():
        env = _passphrase_env(None, url, project, engine)
    return _list(project, url, env)


def _list(project: str, url: str, env: dict[str, str] | None) -> list[StackListing]:
    engine = find_engine()
    if engine is None:
        raise EngineNotFoundError("no Pulumi engine found; run `styx engine install`")
    if env is None:  # only listing: no passphrase is read
        env = _engine_env(engine, styx_home() / "passphrase")
    work_dir = styx_home() / "workspaces" / project
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
        if url.startswith("file://"):
            Path(url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        workspace = auto.LocalWorkspace(
            work_dir=str(work_dir),
            pulumi_home=env["PULUMI_HOME"],
            env_vars=env,
            pulumi_command=auto.PulumiCommand(root=str(_supervised_root(engine))),
            project_settings=auto.ProjectSettings(
                name=project, runtime="python", backend=auto.ProjectBackend(url=url)
            ),
        )
        summaries = workspace.list_stacks()
    except auto.errors.CommandError as err:
        raise classify(err, project) from err
    except OSError as err:  # the SDK writes Pulumi.yaml into the work folder
        raise storage_error(err) from err
    return [
        StackListing(s.name, s.last_update, s.resource_count, bool(s.update_in_progress))
        for s in summaries
    ]
