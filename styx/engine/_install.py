"""Find or install Pulumi's engine (the `pulumi` command) at the version the Python SDK expects.

The order is DESIGN.md's: a usable `pulumi` already here (the one Styx installed before, or
one on PATH), Pulumi's official installer when its host is reachable, a build from source
through the Go module proxy, and otherwise an error naming those three ways.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Literal

from styx.engine._gobuild import build_from_go_modules
from styx.errors import EngineNotFoundError
from styx.home import engine_root

__all__ = [
    "DYNAMIC_PROVIDER_SHIM",
    "Engine",
    "Progress",
    "engine_bin_dir",
    "find_engine",
    "install_engine",
    "sdk_version",
]

Progress = Callable[[str], None]
EngineSource = Literal["styx", "path", "official", "built"]

# The engine looks for the dynamic-provider plugin by this name on PATH or beside itself.
DYNAMIC_PROVIDER_SHIM = "pulumi-resource-pulumi-python"

_OFFICIAL_HOST = "get.pulumi.com"


@dataclass(frozen=True)
class Engine:
    """A `pulumi` command Styx can drive, and where it came from."""

    path: Path
    version: str
    source: EngineSource

    @property
    def bin_dir(self) -> Path:
        return self.path.parent


def sdk_version() -> str:
    """The installed Pulumi Python SDK's version, which the engine must match."""
    return metadata.version("pulumi")


def engine_bin_dir(version: str | None = None) -> Path:
    """Where Styx keeps (or builds) the engine for a version, and the plugin shim beside it."""
    return engine_root() / (version or sdk_version()) / "bin"


def _engine_version(command: Path) -> str | None:
    try:
        out = subprocess.run(
            [str(command), "version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().removeprefix("v") or None


def _accepts(found: str, wanted: str) -> bool:
    """Whether the SDK can drive an engine of version `found`: same major, not older."""

    def parts(v: str) -> tuple[int, ...]:
        core = v.split("-", 1)[0].split("+", 1)[0]
        return tuple(int(p) for p in core.split(".") if p.isdigit())

    f, w = parts(found), parts(wanted)
    return bool(f) and bool(w) and f[0] == w[0] and f >= w


def _version_cache() -> Path:
    return engine_root() / "versions.json"


def _known_version(command: Path) -> str | None:
    """The engine's version, asked once per binary: cached by its path, mtime and size.

    Every command needs an engine, and `pulumi version` is a process of its own (~0.1 s,
    more on a loaded machine); a binary replaced in place changes mtime or size and is
    asked again.
    """
    try:
        resolved = command.resolve()
        st = resolved.stat()
    except OSError:
        return None
    key, stamp = str(resolved), [st.st_mtime_ns, st.st_size]
    cache_file = _version_cache()
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8"))
        if not isinstance(cache, dict):
            cache = {}
    except (OSError, ValueError):
        cache = {}
    entry = cache.get(key)
    if isinstance(entry, dict) and entry.get("stamp") == stamp and entry.get("version"):
        return str(entry["version"])
    found = _engine_version(resolved)
    if found is not None:
        cache[key] = {"stamp": stamp, "version": found}
        # Best effort: a home we cannot write only costs the next command one process.
        tmp = cache_file.with_name(f".versions.{os.getpid()}.tmp")
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(cache, indent=1, sort_keys=True), encoding="utf-8")
            tmp.replace(cache_file)
        except OSError:
            tmp.unlink(missing_ok=True)
    return found


def find_engine() -> Engine | None:
    """An engine already on this machine that the SDK accepts, without installing anything."""
    wanted = sdk_version()
    ours = engine_bin_dir(wanted) / "pulumi"
    if ours.is_file() and os.access(ours, os.X_OK):
        found = _known_version(ours)
        if found is not None and _accepts(found, wanted):
            return Engine(ours, found, "styx")
    on_path = shutil.which("pulumi")
    if on_path is not None:
        found = _known_version(Path(on_path))
        if found is not None and _accepts(found, wanted):
            return Engine(Path(on_path).resolve(), found, "path")
    return None


def write_dynamic_provider_shim(bin_dir: Path) -> Path:
    """Write the two-line plugin that runs Python dynamic providers.

    The interpreter comes from STYX_PYTHON, which the engine wrapper sets to its own
    interpreter, so providers import the same `styx` and `pulumi` as the program that
    declared them, whichever virtualenv shares this engine.
    """
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / DYNAMIC_PROVIDER_SHIM
    text = '#!/bin/sh\nexec "${STYX_PYTHON:-python3}" -u -m pulumi.dynamic "$@"\n'
    if not shim.is_file() or shim.read_text() != text:
        tmp = shim.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        tmp.replace(shim)
    return shim


def _reachable(host: str, port: int = 443, timeout: float = 5.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _official_install(version: str, progress: Progress) -> Engine | None:
    if not _reachable(_OFFICIAL_HOST):
        progress(f"Pulumi's installer ({_OFFICIAL_HOST}) is not reachable from here")
        return None
    from pulumi.automation import PulumiCommand
    from semver import VersionInfo

    root = engine_bin_dir(version).parent
    progress(f"installing pulumi {version} with Pulumi's installer into {root}")
    try:
        PulumiCommand.install(root=str(root), version=VersionInfo.parse(version))
    except Exception as err:  # the installer raises bare subprocess/urllib errors
        progress(f"Pulumi's installer failed: {err}")
        return None
    path = root / "bin" / "pulumi"
    found = _engine_version(path)
    return Engine(path, found, "official") if found and _accepts(found, version) else None


def install_engine(progress: Progress = lambda _msg: None) -> Engine:
    """Find, install or build the engine; always leaves the dynamic-provider shim beside it."""
    wanted = sdk_version()
    engine = find_engine()
    if engine is not None:
        progress(f"found pulumi {engine.version} at {engine.path}")
    else:
        engine = _official_install(wanted, progress)
    if engine is None:
        if shutil.which("go") is None:
            progress("no Go toolchain on PATH: cannot build the engine from source")
        else:
            built = build_from_go_modules(wanted, engine_bin_dir(wanted), progress)
            found = _engine_version(built)
            if found is not None and _accepts(found, wanted):
                engine = Engine(built, found, "built")
    if engine is None:
        raise EngineNotFoundError(
            f"no Pulumi engine {wanted} could be found or installed. Either put a `pulumi` "
            f"{wanted} on PATH, let Styx run Pulumi's installer (needs {_OFFICIAL_HOST}), or "
            "install Go so Styx can build it from the Go module proxy; then run "
            "`styx engine install`"
        )
    write_dynamic_provider_shim(engine_bin_dir(wanted))
    return engine
