"""Bad days end in one red line: read-only STYX_HOME, a full disk, a missing folder, a lost
passphrase, a corrupt checkpoint. Real engine, real file systems (tmpfs mounts), real CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from styx.engine import StackRef, list_stacks, open_stack
from styx.errors import PassphraseError
from styx.workflow import cluster_status

pytestmark = pytest.mark.integration

REPO = Path(__file__).parents[2]
HELLO = (REPO / "examples" / "hello.yaml").read_text()


def _mount(folder: Path, options: str) -> None:
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")


@pytest.fixture
def tmpfs_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    _mount(home, "size=8m")
    try:
        yield home
    finally:
        subprocess.run(["umount", str(home)], check=False)


def styx(home: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STYX_HOME": str(home)}
    env.pop("STYX_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "styx", *args], capture_output=True,
                          text=True, env=env, cwd=work, timeout=300, check=False)


def assert_one_red_line(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    # Progress lines may come first; the failure itself is one line, the last.
    lines = proc.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == lines[-1:], proc.stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def test_read_only_home(tmp_path: Path, tmpfs_home: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "hello.yaml").write_text(HELLO)
    planned = styx(tmpfs_home, work, "plan", "hello.yaml")  # passphrase, state, workspace
    assert planned.returncode == 0, planned.stderr
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs_home)], check=True)
    for args in (["status"], ["plan", "hello.yaml"], ["apply", "hello.yaml", "-y"],
                 ["exec", "hello.yaml"], ["down", "hello.yaml", "-y"]):
        line = assert_one_red_line(styx(tmpfs_home, work, *args), "read-only",
                                   "set STYX_HOME to a writable folder")
        assert str(tmpfs_home) in line


def test_full_disk(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _mount(home, "size=64k")
    try:
        work = tmp_path / "work"
        work.mkdir()
        (work / "hello.yaml").write_text(HELLO)
        planned = styx(home, work, "plan", "hello.yaml")
        assert planned.returncode == 0, planned.stderr
        _fill(home)
        for args in (["apply", "hello.yaml", "-y"], ["down", "hello.yaml", "-y"]):
            assert_one_red_line(styx(home, work, *args), "disk is full")
    finally:
        subprocess.run(["umount", str(home)], check=False)


def _fill(folder: Path) -> None:
    """Fill the file system to the last byte."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 1024):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def test_plan_out_to_a_missing_folder(tmp_path: Path, styx_home: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "hello.yaml").write_text(HELLO)
    target = tmp_path / "no" / "such" / "dir" / "p.json"
    line = assert_one_red_line(styx(styx_home, work, "plan", "hello.yaml", "-o", str(target)),
                               f"cannot write {target}", "does not exist")
    assert "create it" in line
    assert not (tmp_path / "no").exists()


# -- the passphrase ---------------------------------------------------------------------


def test_passphrase_is_made_once_for_a_new_backend(styx_home: Path) -> None:
    # Listing an empty backend needs no passphrase (and starts no engine); the first stack does.
    assert list_stacks("styx") == []
    passphrase = styx_home / "passphrase"
    assert not passphrase.exists()
    open_stack(StackRef("styx", "first"))
    assert passphrase.is_file() and passphrase.stat().st_mode & 0o777 == 0o600
    made = passphrase.read_text()
    open_stack(StackRef("styx", "second"))
    assert passphrase.read_text() == made


def test_missing_passphrase_with_stacks_is_an_error_not_a_new_one(
        styx_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    open_stack(StackRef("styx", "kept"))
    passphrase = styx_home / "passphrase"
    saved = passphrase.read_text().strip()
    passphrase.unlink()
    with pytest.raises(PassphraseError) as caught:
        list_stacks("styx")
    assert caught.value.path == str(passphrase)
    assert "STYX_PASSPHRASE" in str(caught.value) and "restore" in str(caught.value)
    assert not passphrase.exists()  # never silently regenerated
    # The passphrase given in the environment works and is never written to disk.
    monkeypatch.setenv("STYX_PASSPHRASE", saved)
    assert [s.name for s in list_stacks("styx")] == ["kept"]
    assert not passphrase.exists()
    leaked = [p for p in styx_home.rglob("*") if p.is_file() and saved.encode() in p.read_bytes()]
    assert leaked == []


def test_cli_names_the_missing_passphrase(tmp_path: Path, styx_home: Path) -> None:
    open_stack(StackRef("styx", "kept"))
    (styx_home / "passphrase").unlink()
    assert_one_red_line(styx(styx_home, tmp_path, "status"),
                        f"passphrase file {styx_home / 'passphrase'} is missing")


# -- one broken stack ---------------------------------------------------------------------


def test_status_shows_a_corrupt_stack_as_one_broken_row(tmp_path: Path, styx_home: Path) -> None:
    for name in ("good", "bad"):
        open_stack(StackRef("styx", name))
    checkpoint = styx_home / "state" / ".pulumi" / "stacks" / "styx" / "bad.json"
    checkpoint.write_text('{"version": 3, "checkpoint": {')
    rows = {c.cluster: c for c in cluster_status("styx")}
    assert rows["bad"].state == "BROKEN" and "checkpoint" in (rows["bad"].problem or "")
    assert rows["good"].state == "DOWN" and rows["good"].problem is None
    proc = styx(styx_home, tmp_path, "status", "--json", "-a")
    assert proc.returncode == 0, proc.stderr
    states = {row["cluster"]: row["state"] for row in json.loads(proc.stdout)}
    assert states == {"bad": "BROKEN", "good": "DOWN"}
