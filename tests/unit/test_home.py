"""Files and folders Styx creates under STYX_HOME are private whatever the umask."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from styx.home import PRIVATE_UMASK, open_private, private_dir, restrict_umask, write_private


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_private_dir_makes_every_missing_folder_0700(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir(mode=0o755)
    private_dir(tmp_path / "a" / "b" / "c")
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o755  # existed: left alone
    assert (tmp_path / "a" / "b").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "a" / "b" / "c").stat().st_mode & 0o777 == 0o700


def test_write_private_replaces_and_tightens_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "x" / "f.txt"
    path.parent.mkdir()
    path.write_text("old, world-readable")
    path.chmod(0o644)
    write_private(path, "new")
    assert path.read_text() == "new"
    assert path.stat().st_mode & 0o777 == 0o600
    fd = open_private(path, append=True)
    os.write(fd, b"+more")
    os.close(fd)
    assert path.read_text() == "new+more"


def test_restrict_umask_returns_the_old_one(tmp_path: Path) -> None:
    old = restrict_umask()
    try:
        assert old == 0o022
        (tmp_path / "f").write_text("x")
        assert (tmp_path / "f").stat().st_mode & 0o777 == 0o666 & ~PRIVATE_UMASK
    finally:
        os.umask(old)
