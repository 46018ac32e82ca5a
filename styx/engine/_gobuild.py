"""Build Pulumi's engine from its Go modules when no binary can be downloaded.

A small wrapper module requires `github.com/pulumi/pulumi/pkg/v3` and `.../sdk/v3` at the
SDK's version. Upstream's pkg/go.mod replaces sdk with a sibling folder (`../sdk`); that
becomes a plain requirement of the same version here, and its other `replace` lines are
copied, so the build resolves the same dependencies upstream's release did.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from styx._fs import storage
from styx.errors import EngineNotFoundError

__all__ = ["build_from_go_modules", "upstream_replaces", "wrapper_go_mod"]

_PKG = "github.com/pulumi/pulumi/pkg/v3"
# `go mod download` of one module: minutes on a slow proxy, never this long on a working one.
DOWNLOAD_SECONDS = 600
_SDK = "github.com/pulumi/pulumi/sdk/v3"
_VERSION_VAR = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"

_REPLACE_LINE = re.compile(r"^\s*(?:replace\s+)?(\S+)(?:\s+(\S+))?\s+=>\s+(\S+)(?:\s+(\S+))?\s*$")


def upstream_replaces(go_mod_text: str) -> list[str]:
    """The `replace` directives of upstream's go.mod that point at modules, not folders."""
    lines: list[str] = []
    in_block = False
    for raw in go_mod_text.splitlines():
        line = raw.split("//", 1)[0].rstrip()
        stripped = line.strip()
        if stripped.startswith("replace ("):
            in_block = True
            continue
        if in_block and stripped == ")":
            in_block = False
            continue
        if not (in_block or stripped.startswith("replace ")):
            continue
        match = _REPLACE_LINE.match(stripped)
        if match is None:
            continue
        old, old_ver, new, new_ver = match.groups()
        if new.startswith((".", "/")):
            continue  # a folder in upstream's checkout: required at the same version instead
        left = f"{old} {old_ver}" if old_ver else old
        right = f"{new} {new_ver}" if new_ver else new
        lines.append(f"replace {left} => {right}")
    return lines


def wrapper_go_mod(version: str, replaces: Sequence[str]) -> str:
    """The wrapper module's go.mod for engine `version` (without the leading v)."""
    body = [
        "module styx.local/pulumi-engine",
        "",
        "go 1.22",
        "",
        "require (",
        f"\t{_PKG} v{version}",
        f"\t{_SDK} v{version}",
        ")",
        "",
        *replaces,
    ]
    return "\n".join(body).rstrip() + "\n"


_TOOLS_GO = f"""//go:build tools

// Package tools pins the engine's main package so `go mod tidy` keeps its dependencies.
package tools

import _ "{_PKG}/cmd/pulumi"
"""


def _stream(cmd: list[str], cwd: Path, env: dict[str, str]) -> Iterator[str]:
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    tail: list[str] = []
    for line in proc.stdout:
        line = line.rstrip()
        tail = [*tail[-19:], line]
        yield line
    if proc.wait() != 0:
        detail = "\n".join(tail)
        raise EngineNotFoundError(
            f"building the Pulumi engine failed at `{' '.join(cmd[:3])}` "
            f"(exit {proc.returncode}):\n{detail}"
        )


def _upstream_go_mod(version: str, src: Path, env: dict[str, str]) -> str:
    try:
        out = subprocess.run(
            ["go", "mod", "download", "-json", f"{_PKG}@v{version}"],
            cwd=src,
            env=env,
            capture_output=True,
            text=True,
            timeout=DOWNLOAD_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise EngineNotFoundError(
            f"`go mod download {_PKG}@v{version}` did not finish within {DOWNLOAD_SECONDS} s; "
            "check the network and GOPROXY, or install a `pulumi` "
            f"{version} on PATH instead"
        ) from None
    info = json.loads(out.stdout or "{}")
    if out.returncode != 0 or "GoMod" not in info:
        reason = info.get("Error") or out.stderr.strip() or "no answer"
        raise EngineNotFoundError(
            f"the Go module proxy has no {_PKG}@v{version} ({reason}); install a `pulumi` "
            f"{version} on PATH instead, or use a Pulumi SDK whose version the proxy serves"
        )
    return Path(info["GoMod"]).read_text()


def build_from_go_modules(
    version: str, bin_dir: Path, progress: Callable[[str], None]
) -> Path:
    """Build `pulumi` at `version` into bin_dir; reuse it when a previous build finished."""
    target = bin_dir / "pulumi"
    if target.is_file():
        return target
    src = bin_dir.parent / "src"
    with storage(src):
        src.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOFLAGS": "-mod=mod"}
    started = time.monotonic()

    progress(f"building pulumi {version} from the Go module proxy (first time: several minutes)")
    with storage(src / "go.mod"):
        (src / "go.mod").write_text(wrapper_go_mod(version, []))
    replaces = upstream_replaces(_upstream_go_mod(version, src, env))
    with storage(src):
        (src / "go.mod").write_text(wrapper_go_mod(version, replaces))
        (src / "tools.go").write_text(_TOOLS_GO)

    downloads = 0
    for line in _stream(["go", "mod", "tidy"], src, env):
        if line.startswith("go: downloading"):
            downloads += 1
            if downloads % 25 == 0:
                progress(f"  downloaded {downloads} modules")
    progress(f"  resolved dependencies ({downloads} modules downloaded)")

    # Build beside the target and rename, so an interrupted build never looks finished.
    partial = bin_dir / "pulumi.partial"
    with storage(bin_dir):
        bin_dir.mkdir(parents=True, exist_ok=True)
    ldflags = f"-X {_VERSION_VAR}=v{version}"
    cmd = ["go", "build", "-v", "-ldflags", ldflags, "-o", str(partial), f"{_PKG}/cmd/pulumi"]
    compiled = 0
    for compiled, _line in enumerate(_stream(cmd, src, env), start=1):
        if compiled % 100 == 0:
            progress(f"  compiled {compiled} packages")
    partial.replace(target)
    progress(f"  compiled {compiled} packages")
    progress(f"built {target} in {time.monotonic() - started:.0f}s")
    return target
