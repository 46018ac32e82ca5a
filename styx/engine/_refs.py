"""Naming a stack and its backend: plain data, importable without the engine or Pulumi."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from styx.home import styx_home

__all__ = [
    "StackListing",
    "StackRef",
    "default_backend_url",
    "file_backend_is_empty",
    "file_backend_stacks",
]


def default_backend_url() -> str:
    """The file backend every stack uses unless a stack file names another."""
    return (styx_home() / "state").as_uri()


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


@dataclass(frozen=True)
class StackListing:
    """A stack in a backend, as the engine lists it."""

    name: str
    last_update: datetime | None
    resource_count: int | None
    update_in_progress: bool


def file_backend_is_empty(project: str, backend_url: str) -> bool:
    """Whether a file backend surely holds no stack of `project` (no engine needed to say:
    a fresh home's `styx status`). False for other backends: only the engine can tell."""
    if not backend_url.startswith("file://"):
        return False
    root = Path(unquote(backend_url.removeprefix("file://").split("?", 1)[0]))
    if (root / ".pulumi" / "stacks" / project).is_dir():
        return False
    # The legacy layout keeps stacks directly in stacks/; only then ask the engine.
    legacy = root / ".pulumi" / "stacks"
    return not legacy.is_dir() or not any(legacy.glob("*.json*"))
