"""A tool that hangs and a write that fails are one-line errors, not tracebacks."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from styx import check
from styx._fs import storage, storage_error
from styx.engine import _gobuild
from styx.errors import EngineNotFoundError, StorageError


def _hanging_tool(folder: Path, name: str) -> Path:
    folder.mkdir(exist_ok=True)
    tool = folder / name
    tool.write_text("#!/bin/sh\nexec sleep 30\n")
    tool.chmod(0o755)
    return folder


def test_check_survives_an_sshd_that_hangs(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = _hanging_tool(tmp_path / "bin", "sshd")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(check, "_SSHD_SECONDS", 0.2)
    capability = next(c for c in check.check_capabilities() if c.name == "openssh server")
    assert not capability.ok
    assert capability.detail == f"{bin_dir / 'sshd'} -V did not answer within 0.2 s"


def test_engine_build_survives_a_go_that_hangs(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = _hanging_tool(tmp_path / "bin", "go")
    monkeypatch.setattr(_gobuild, "DOWNLOAD_SECONDS", 0.2)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    with pytest.raises(EngineNotFoundError, match=r"did not finish within 0\.2 s; check the "
                                                  r"network and GOPROXY"):
        _gobuild._upstream_go_mod("3.259.0", tmp_path, env)


@pytest.mark.parametrize(("code", "words"), [
    (errno.EROFS, "the file system is read-only; set STYX_HOME to a writable folder"),
    (errno.ENOSPC, "the disk is full; free some space"),
    (errno.EACCES, "permission denied; check the owner and mode of the folder; set STYX_HOME"),
])
def test_storage_errors_say_what_to_do(styx_home: Path, code: int, words: str) -> None:
    path = styx_home / "state" / "x.json"
    err = storage_error(OSError(code, os.strerror(code), str(path)))
    assert isinstance(err, StorageError) and err.path == str(path)
    assert str(err) == f"cannot write {path}: {words}" or str(err).startswith(
        f"cannot write {path}: {words}")


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    target = tmp_path / "no" / "p.json"
    with pytest.raises(StorageError, match=rf"cannot write {target}: folder {target.parent} "
                                           "does not exist; create it or choose another path"),\
            storage(target):
        target.write_text("x")
