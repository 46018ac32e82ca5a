"""A stack's recorded outputs read straight from a file backend's checkpoint, without the engine.

`styx exec`, `logs`, `queue` and `cancel` need only the stack's outputs (where the nodes are),
and asking the engine costs an engine process plus the Automation API's import: about half a
second of a command users repeat while they iterate. The checkpoint is the very file the
engine answers from (`pulumi stack output` reads it; the engine replaces it whole on each
write), in Pulumi's documented deployment format, version 3. Secret values stay masked, as
the engine masks them. Anything unexpected (another backend, a format version we do not know,
a file that does not parse) returns None and the caller asks the engine, which is never wrong.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

from styx.engine._refs import StackRef

__all__ = ["SECRET_MASK", "recorded_outputs"]

SECRET_MASK: Final = "[secret]"
# How Pulumi marks a secret value in a checkpoint (its "special signature" for secrets).
_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
_SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"
_STACK_TYPE: Final = "pulumi:pulumi:Stack"


def _checkpoint_file(ref: StackRef) -> Path | None:
    if not ref.backend_url.startswith("file://"):
        return None
    root = Path(unquote(ref.backend_url.removeprefix("file://").split("?", 1)[0]))
    folder = root / ".pulumi" / "stacks" / ref.project
    for name in (f"{ref.stack}.json", f"{ref.stack}.json.gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return SECRET_MASK
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def recorded_outputs(ref: StackRef) -> dict[str, Any] | None:
    """The stack's outputs as the engine would report them, or None: ask the engine."""
    path = _checkpoint_file(ref)
    if path is None:
        return None
    try:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        document = json.loads(raw)
    except (OSError, ValueError, EOFError):
        return None
    if not isinstance(document, dict) or document.get("version") != 3:
        return None
    latest = (document.get("checkpoint") or {}).get("latest") or {}
    resources = latest.get("resources") or []
    if not isinstance(resources, list):
        return None
    stack = next((r for r in resources if isinstance(r, dict) and r.get("type") == _STACK_TYPE
                  and not r.get("parent")), None)  # fmt: skip
    outputs = (stack or {}).get("outputs") or {}
    return _masked(outputs) if isinstance(outputs, dict) else None
