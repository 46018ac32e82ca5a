"""Classify the engine's failures at the boundary into Styx's error tree, with a useful line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pulumi.automation import errors as auto_errors

from styx.errors import EngineError, StackLockedError, StackNotFoundError

__all__ = ["EngineLock", "classify", "engine_locks"]

_LOCK_HOLDER = re.compile(r"created by (?P<who>.+?) at (?P<when>\S+)")
_LOCK_LINE = re.compile(
    r"^\s*(?P<key>\S+\.json): created by (?P<user>[^@\s]*)@(?P<host>\S+) "
    r"\(pid (?P<pid>\d+)\) at (?P<when>\S+)", re.M
)
_BAD_JSON = ("unexpected end of JSON input", "invalid character", "cannot unmarshal")


@dataclass(frozen=True)
class EngineLock:
    """One of the engine's lock files on a stack, as its error names it."""

    key: str  # the lock's path inside the backend
    user: str
    host: str
    pid: int
    since: str

    def describe(self) -> str:
        return f"{self.user}@{self.host} (pid {self.pid}) since {self.since}"


def engine_locks(text: str) -> list[EngineLock]:
    """The engine's locks named in a "currently locked" error."""
    return [
        EngineLock(m["key"], m["user"], m["host"], int(m["pid"]), m["when"])
        for m in _LOCK_LINE.finditer(text)
    ]
_MISSING_PLUGIN = re.compile(r"no resource plugin '(?:pulumi-resource-)?(?P<name>[\w-]+)'")
_PLUGIN_VERSION = re.compile(r"version v?(?P<version>\d+\.\d+\.\d+)")
_ERROR_LINE = re.compile(r"(?:^|\s)error:\s*(?P<msg>.+)$", re.M)


def _first_error_line(text: str) -> str:
    found = [m.group("msg").strip() for m in _ERROR_LINE.finditer(text)]
    # The engine often ends with a generic "update failed"; the specific cause comes first.
    specific = [line for line in found if "update failed" not in line and line != "preview failed"]
    if specific:
        return specific[0]
    if found:
        return found[0]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "the engine failed without a message"


def classify(err: auto_errors.CommandError, stack: str) -> EngineError:
    """Turn an Automation API CommandError into the StyxError a user can act on."""
    text = str(err)  # CommandError's text carries the engine's stdout and stderr
    if isinstance(err, auto_errors.ConcurrentUpdateError) or "currently locked" in text:
        holder = _LOCK_HOLDER.search(text)
        by = f" by {holder.group('who')} since {holder.group('when')}" if holder else ""
        name = stack.rsplit("/", 1)[-1]
        return StackLockedError(
            f"stack {stack} is locked{by}: another update is running; wait for it, or if it "
            f"died, clear the lock with `styx unlock {name}`",
            stack=stack,
        )
    if any(bad in text for bad in _BAD_JSON) and "lock" in text.lower():
        name = stack.rsplit("/", 1)[-1]
        return StackLockedError(
            f"stack {stack}: the engine's lock file is empty or corrupt ({_first_error_line(text)}"
            f"); `styx unlock {name}` removes it",
            stack=stack,
        )
    if isinstance(err, auto_errors.StackNotFoundError) or "no stack named" in text:
        return StackNotFoundError(f"stack {stack} does not exist yet", stack=stack)
    plugin = _MISSING_PLUGIN.search(text)
    if plugin:
        name = plugin.group("name")
        found = _PLUGIN_VERSION.search(text, plugin.end())
        version = found.group("version") if found else "<version>"
        return EngineError(
            f"the engine has no `{name}` provider plugin; install it with "
            f"`pulumi plugin install resource {name} {version}`",
            stack=stack,
        )
    return EngineError(f"stack {stack}: {_first_error_line(text)}", stack=stack)
