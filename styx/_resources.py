"""Locate the data folders (templates/, playbooks/, schemas/) that ship inside the package."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

__all__ = ["DataFolder", "data_path"]

DataFolder = Literal["templates", "playbooks", "schemas"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_path(folder: DataFolder, *parts: str) -> Path:
    """Path to a shipped data file.

    A wheel carries the folders inside the package (pyproject's force-include); a source
    checkout (editable install, tests) keeps them at the repository's top, beside `styx/`.
    """
    installed = _PACKAGE_DIR / folder
    base = installed if installed.is_dir() else _PACKAGE_DIR.parent / folder
    return base.joinpath(*parts)
