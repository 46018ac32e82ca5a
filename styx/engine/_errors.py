"""Classify the engine's failures at the boundary into Styx's error tree, with a useful line."""

from __future__ import annotations

import re

from pulumi.automation import errors as auto_errors

from styx.errors import EngineError, StackLockedError, StackNotFoundError

__all__ = ["classify"]

_LOCK_HOLDER = re.compile(r"created by (?P<who>.+?) at (?P<when>\S+)")
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
        return StackLockedError(
            f"stack {stack} is locked{by}: another update is running; wait for it, or if it "
            "died, clear the lock with `pulumi cancel`",
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
