"""Where each field of a task was written, so later stages can point at it (file:line:col).

The loader records the place of every key of the task file on the Spec; a command-line flag
that overrides a field records itself instead. `field_place` finds a field's place the way a
person would look for it: the field itself, the `infra` or `gpus` it came from, then the
first `any_of`/`ordered` entry that sets it, then the block that holds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from styx.errors import SpecIssue
from styx.spec._yaml import describe_path

if TYPE_CHECKING:
    from styx.spec._model import Spec
    from styx.spec._yaml import Document

__all__ = ["Place", "field_issue", "field_place", "places_of"]

# A field can be written under another name: the location fields inside `infra`.
_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "cloud": ("infra",),
    "region": ("infra",),
    "zone": ("infra",),
    "accelerators": ("gpus",),
    "disk_size_gb": ("disk_size",),
}
_ENTRY: Final = re.compile(r"^resources\.(?:any_of|ordered)\[\d+\]\.")


@dataclass(frozen=True)
class Place:
    """A file (or a command-line flag) and, within a file, a 1-based line and column."""

    path: str
    line: int | None = None
    column: int | None = None


def places_of(document: Document) -> dict[str, Place]:
    """Every key of a loaded document, by dotted field path ("resources.any_of[1].cpus")."""
    found: dict[str, Place] = {}
    for path, mark in document.keys.items():
        name = describe_path(path)
        if name is not None:
            found[name] = Place(document.display, mark.line, mark.column)
    return found


def _names(field: str) -> list[str]:
    block, _, leaf = field.rpartition(".")
    prefix = f"{block}." if block else ""
    return [field, *(prefix + alias for alias in _ALIASES.get(leaf, ()))]


def field_place(spec: Spec, field: str) -> Place:
    """Where `field` ("resources.use_spot", "file_mounts.~/data") was set; else its block."""
    places = spec.places
    names = _names(field)
    for name in names:
        if name in places:
            return places[name]
    if field.startswith("resources."):
        leaves = {name.removeprefix("resources.") for name in names}
        entries = [
            place for key, place in places.items()
            if _ENTRY.match(key) and _ENTRY.sub("", key) in leaves
        ]
        if entries:
            return min(entries, key=lambda p: (p.line or 0, p.column or 0))
    parent = field
    while "." in parent:
        parent = parent.rsplit(".", 1)[0]
        if parent in places:
            return places[parent]
    return Place(str(spec.source))


def field_issue(spec: Spec, field: str, message: str) -> SpecIssue:
    """A SpecIssue at the place of `field` in the spec's task (or the flag that set it)."""
    place = field_place(spec, field)
    return SpecIssue(place.path, place.line, place.column, field, message)
