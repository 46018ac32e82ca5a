"""Agent calls share one SSH connection per node whatever the length of STYX_HOME's path.

The sockets once lived under the stack's folder, where a home folder and cluster name of
ordinary length passed the 107-byte limit of a socket path: every agent call then paid a
full SSH handshake. They live in a short private folder now, named per stack.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from styx.jobs import AgentClient
from styx.nodes import ClusterAccess, NodeAccess


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short runtime folder, as /run/user/UID is (pytest's tmp_path is too long for one)."""
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    shutil.rmtree(folder)


def _client(state_dir: Path) -> AgentClient:
    node = NodeAccess("head", 0, "127.0.0.2", 2222, "root", "ssh-ed25519 AAAA")
    return AgentClient(ClusterAccess("c", (node,), state_dir / "key", state_dir))


def _option(argv: list[str], name: str) -> str:
    values = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-o"]
    return next(v.split("=", 1)[1] for v in values if v.startswith(name + "="))


def test_a_long_home_still_shares_the_connection(tmp_path: Path, runtime: Path) -> None:
    deep = tmp_path / ("a-rather-long-home-folder-name" * 3) / "stacks" / "styx" / "my-cluster"
    argv = _client(deep).argv("true")
    assert _option(argv, "ControlMaster") == "auto"
    path = _option(argv, "ControlPath").strip('"')
    assert len(path) - 2 + 40 + 18 <= 107  # %C expands to 40 characters
    folder = Path(path).parent
    assert folder.stat().st_mode & 0o777 == 0o700 and folder.stat().st_uid == os.getuid()


def test_each_stack_has_its_own_masters(tmp_path: Path, runtime: Path) -> None:
    one = _option(_client(tmp_path / "home1" / "c").argv("true"), "ControlPath")
    two = _option(_client(tmp_path / "home2" / "c").argv("true"), "ControlPath")
    assert one != two and "none" not in (one, two)


def test_a_folder_others_can_enter_is_not_used(tmp_path: Path, runtime: Path) -> None:
    shared = runtime / f"styx-{os.getuid()}"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    argv = _client(tmp_path / "c").argv("true")
    assert _option(argv, "ControlMaster") == "no"
