"""`styx check`: what this machine can do, one capability at a time (SkyPilot's `sky check`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from styx.engine import (
    DYNAMIC_PROVIDER_SHIM,
    default_backend_url,
    engine_bin_dir,
    find_engine,
    sdk_version,
)
from styx.home import styx_home

__all__ = ["Capability", "check_capabilities", "local_cloud_ready"]

# How long a tool may take to print its version before it counts as not working.
_SSHD_SECONDS = 30
_ANSIBLE_SECONDS = 60
# Capabilities the embedded local cloud cannot run without; the others only widen choices.
_LOCAL_CLOUD_NEEDS = frozenset(
    {"engine", "dynamic providers", "ansible", "openssh server", "state"}
)


@dataclass(frozen=True)
class Capability:
    """One thing Styx needs or can use, whether it is there, and why (or why not)."""

    name: str
    ok: bool
    detail: str


def _engine() -> Capability:
    engine = find_engine()
    if engine is None:
        return Capability("engine", False, f"no pulumi {sdk_version()}; run `styx engine install`")
    return Capability("engine", True, f"pulumi {engine.version} at {engine.path} ({engine.source})")


def _dynamic_providers() -> Capability:
    shim = engine_bin_dir() / DYNAMIC_PROVIDER_SHIM
    if shim.is_file() and os.access(shim, os.X_OK):
        return Capability("dynamic providers", True, f"plugin shim at {shim}")
    return Capability("dynamic providers", False, "no plugin shim; run `styx engine install`")


def _ansible() -> Capability:
    try:
        import ansible_runner
    except ImportError as err:
        return Capability("ansible", False, f"ansible-runner not importable: {err}")
    # ansible-runner starts ansible-playbook from PATH; a virtualenv puts it beside python.
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    playbook = shutil.which("ansible-playbook", path=search)
    if playbook is None:
        return Capability("ansible", False, "ansible-playbook not found (install ansible-core)")
    try:
        first = subprocess.run(
            [playbook, "--version"], capture_output=True, text=True,
            timeout=_ANSIBLE_SECONDS, check=True,
        ).stdout.splitlines()[0]
    except subprocess.TimeoutExpired:
        return Capability("ansible", False,
                          f"{playbook} --version did not answer within {_ANSIBLE_SECONDS} s")
    except (OSError, subprocess.SubprocessError, IndexError) as err:
        return Capability("ansible", False, f"{playbook} does not run: {err}")
    runner = getattr(ansible_runner, "__version__", None) or _dist_version("ansible-runner")
    return Capability("ansible", True, f"{first.strip()}, ansible-runner {runner}")


def _dist_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def _openssh() -> Capability:
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    sshd = shutil.which("sshd", path=search)
    missing = [tool for tool in ("ssh", "ssh-keygen") if shutil.which(tool) is None]
    if sshd is None:
        return Capability("openssh server", False, "no sshd (apt-get install openssh-server)")
    if missing:
        return Capability("openssh server", False, f"missing {', '.join(missing)}")
    # `sshd -V` prints the version on stderr (and exits non-zero on older releases).
    try:
        proc = subprocess.run([sshd, "-V"], capture_output=True, text=True,
                              timeout=_SSHD_SECONDS)
    except subprocess.TimeoutExpired:
        return Capability("openssh server", False,
                          f"{sshd} -V did not answer within {_SSHD_SECONDS} s")
    except OSError as err:
        return Capability("openssh server", False, f"{sshd} does not run: {err.strerror}")
    version = (proc.stderr or proc.stdout).strip().splitlines()
    return Capability("openssh server", True, f"{sshd} ({version[0] if version else 'unknown'})")


def _aws_credentials() -> Capability:
    # Only whether credentials exist and where; never their values.
    if os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"):
        return Capability("aws credentials", True, "found in the environment")
    if os.environ.get("AWS_PROFILE"):
        return Capability("aws credentials", True, f"profile {os.environ['AWS_PROFILE']}")
    shared = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE", Path.home() / ".aws/credentials"))
    if shared.is_file():
        return Capability("aws credentials", True, f"found in {shared}")
    return Capability("aws credentials", False, "not found (only needed for cloud: aws)")


def _state_backend() -> Capability:
    state = styx_home() / "state"
    try:
        state.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=state, prefix=".styx-check-"):
            pass
    except OSError as err:
        return Capability("state", False, f"{default_backend_url()} is not writable: {err}")
    return Capability("state", True, f"{default_backend_url()} (writable)")


def check_capabilities() -> list[Capability]:
    """Every capability, in the order `styx check` prints them."""
    return [
        _engine(),
        _dynamic_providers(),
        _ansible(),
        _openssh(),
        _aws_credentials(),
        _state_backend(),
    ]


def local_cloud_ready(capabilities: list[Capability]) -> bool:
    """Whether the embedded local cloud can run with these capabilities."""
    return all(c.ok for c in capabilities if c.name in _LOCAL_CLOUD_NEEDS)
