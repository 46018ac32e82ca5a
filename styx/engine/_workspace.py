"""Open a Pulumi stack for an inline program: backend, passphrase, engine and environment."""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import unquote

from pulumi import automation as auto
from pulumi.automation._stack import StackInitMode
from semver import VersionInfo

from styx._fs import storage, storage_error
from styx.engine._backend import engine_backend_url
from styx.engine._errors import classify
from styx.engine._install import Engine, engine_bin_dir, find_engine, sdk_version
from styx.engine._refs import (
    StackListing,
    StackRef,
    default_backend_url,
    file_backend_is_empty,
    file_backend_stacks,
)
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

# How the engine prints a secret value when not asked to show secrets.
_SECRET = "[secret]"


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


def _engine_env(engine: Engine, passphrase_file: Path) -> dict[str, str]:
    bin_dirs = [str(engine_bin_dir(sdk_version())), str(engine.bin_dir)]
    # The engine's debug log: off (and no time spent writing it) unless STYX_DEBUG is set.
    log_settings = engine_log_settings(RetentionPolicy.from_env())
    return {
        **log_settings,
        "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase_file),
        # Keep the engine's own files (plugins, credentials, logs) under STYX_HOME.
        "PULUMI_HOME": str(styx_home() / "pulumi"),
        # The local cloud's providers resolve their paths against the applying machine's
        # STYX_HOME (inputs hold paths relative to it, so a stack is portable).
        "STYX_HOME": str(styx_home().expanduser().resolve()),
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
        tmp.chmod(0o700)  # private like everything under STYX_HOME; only we run it
        os.replace(tmp, wrapper)
    return root


class _KnownEngine(auto.PulumiCommand):
    """The engine whose version Styx already knows (find_engine caches it per binary).

    PulumiCommand's constructor runs `pulumi version` every time, even with
    skip_version_check; find_engine has checked this binary's version against the SDK, so
    the command is built from the path and that version instead of a process.
    """

    def __init__(self, command: Path, version: str) -> None:
        # No super().__init__(): that is the `pulumi version` process; these are its fields.
        self.command = str(command)
        self.version = VersionInfo.parse(version)


class _NamedStack(auto.Stack):
    """A stack the Automation API addresses by name, opened without `pulumi stack select`,
    whose outputs are read once with secrets masked.

    Stack() selects the stack in its constructor (one engine process) only to make it the
    workspace's current one and to fail early when it is missing; every operation passes
    `--stack NAME` anyway, so open_stack selects only a stack it cannot see recorded.
    """

    def __init__(self, name: str, workspace: auto.LocalWorkspace) -> None:
        # No super().__init__(): that runs `stack select`; these are the fields it sets.
        self.name = name
        self.workspace = workspace
        self._mode = StackInitMode.SELECT

    def outputs(self) -> auto.OutputMap:
        """The outputs in one engine process, secret values as the "[secret]" sentinel.

        The workspace's stack_outputs reads them twice (masked, then --show-secrets) to
        hand back plaintext secrets, which Styx never shows; the masked read alone says
        which are secret. Stack.up() calls this too, so an update pays one read, not two.
        """
        workspace = self.workspace
        env = {
            **({"PULUMI_HOME": workspace.pulumi_home} if workspace.pulumi_home else {}),
            **workspace.env_vars,
        }
        args = ["stack", "output", "--json", "--stack", self.name]
        result = workspace.pulumi_command.run(args, workspace.work_dir, env)
        masked = json.loads(result.stdout or "{}")
        return {
            key: auto.OutputValue(value=value, secret=value == _SECRET)
            for key, value in (masked.items() if isinstance(masked, dict) else ())
        }


def _file_backend_root(backend_url: str) -> Path | None:
    if not backend_url.startswith("file://"):
        return None
    return Path(unquote(backend_url.removeprefix("file://").split("?", 1)[0]))


def _stack_recorded(ref: StackRef) -> bool:
    """Whether a file backend holds the stack's checkpoint (project-scoped layout).

    False means "not known here": an S3 backend, or the legacy layout; the caller then
    lets the engine select the stack, which costs a process but is always right.
    """
    root = _file_backend_root(ref.backend_url)
    if root is None:
        return False
    folder = root / ".pulumi" / "stacks" / ref.project
    return any((folder / f"{ref.stack}{suffix}").is_file() for suffix in (".json", ".json.gz"))


def _workspace(
    engine: Engine, project: str, backend_url: str, env: dict[str, str], program: Program
) -> auto.LocalWorkspace:
    work_dir = styx_home() / "workspaces" / project
    work_dir.mkdir(parents=True, exist_ok=True)
    return auto.LocalWorkspace(
        work_dir=str(work_dir),
        pulumi_home=env["PULUMI_HOME"],
        program=program,
        env_vars=env,
        secrets_provider="passphrase",
        pulumi_command=_KnownEngine(_supervised_root(engine) / "bin" / "pulumi", engine.version),
        project_settings=auto.ProjectSettings(
            name=project,
            runtime="python",
            # As the Automation API's inline-program helpers set it.
            main=os.getcwd(),
            backend=auto.ProjectBackend(url=engine_backend_url(backend_url)),
        ),
    )


def _reads_only() -> None:
    """The program of a stack opened to read or destroy it: those never run a program."""


def open_stack(
    ref: StackRef, program: Program | None = None, *, create: bool = True
) -> auto.Stack:
    """Open (or create) the stack for `program`; raises StyxError subclasses, never raw ones.

    Without a program the stack is opened to read it (outputs, history) or destroy it.
    An existing stack on a file backend costs no engine process to open; a new one, or one
    on another backend, costs one (`stack select`, or `stack init` to create it).
    """
    program = program or _reads_only
    engine = find_engine()
    if engine is None:
        raise EngineNotFoundError(
            f"no Pulumi engine {sdk_version()} found; run `styx engine install`"
        )
    with storage():
        root = _file_backend_root(ref.backend_url)
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
        env = _passphrase_env(ref.passphrase_file, ref.backend_url, ref.project, engine)
    try:
        workspace = _workspace(engine, ref.project, ref.backend_url, env, program)
        stack = _NamedStack(ref.stack, workspace)
        if _stack_recorded(ref):
            return stack
        # Not known to exist: select it (and create it when missing), as Stack() would.
        try:
            workspace.select_stack(ref.stack)
        except auto.errors.StackNotFoundError:
            if not create:
                raise
            workspace.create_stack(ref.stack)
    except auto.errors.CommandError as err:
        raise classify(err, ref.qualified) from err
    except OSError as err:  # the SDK writes Pulumi.yaml into the work folder
        raise storage_error(err) from err
    return stack


def stack_env(ref: StackRef) -> Mapping[str, str]:
    """The environment the engine runs with for this stack (for tools that call it directly)."""
    engine = find_engine()
    if engine is None:
        raise EngineNotFoundError("no Pulumi engine found; run `styx engine install`")
    with storage():
        return _passphrase_env(ref.passphrase_file, ref.backend_url, ref.project, engine)


def list_stacks(project: str, backend_url: str | None = None) -> list[StackListing]:
    """Every stack of `project` in the backend (the default file backend unless named).

    A file backend with no stacks folder for the project has none: that answer needs no
    engine (a fresh home's `styx status`).
    """
    url = backend_url or default_backend_url()
    if file_backend_is_empty(project, url):
        return []
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
    try:
        root = _file_backend_root(url)
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
        workspace = _workspace(engine, project, url, env, _reads_only)
        summaries = workspace.list_stacks()
    except auto.errors.CommandError as err:
        raise classify(err, project) from err
    except OSError as err:  # the SDK writes Pulumi.yaml into the work folder
        raise storage_error(err) from err
    return [
        StackListing(s.name, s.last_update, s.resource_count, bool(s.update_in_progress))
        for s in summaries
    ]
