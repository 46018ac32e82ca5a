"""A node's local log: private, masked, and the same lines on screen as in the file."""

from __future__ import annotations

import os
from pathlib import Path

from styx.nodes._secrets import SecretMask
from styx.nodes._stream import MaskedLog


def test_the_log_is_private_and_masked_on_screen_and_on_disk(tmp_path: Path) -> None:
    old = os.umask(0o022)  # what a user's shell usually has: the log must be private regardless
    try:
        check_log(tmp_path)
    finally:
        os.umask(old)


def check_log(tmp_path: Path) -> None:
    path = tmp_path / "stacks" / "p" / "dev" / "logs" / "job-1" / "head.log"
    shown: list[tuple[str, str]] = []
    log = MaskedLog("head", path, SecretMask(["s3cr3t", "two\nlines-secret"]),
                    lambda node, line: shown.append((node, line)))  # fmt: skip
    for piece in (b"token=s3c", b"r3t ok\n", b"two\n", b"lines-secret\n", b"last, no newline"):
        log.write(piece)
    log.close()
    log.close()  # twice is harmless (the tail closes it; an error path may too)
    assert path.read_bytes() == b"token=[secret] ok\n[secret]\nlast, no newline"
    assert shown == [
        ("head", "token=[secret] ok"),
        ("head", "[secret]"),
        ("head", "last, no newline"),
    ]
    assert path.stat().st_mode & 0o777 == 0o600
    for folder in (path.parent, path.parent.parent, tmp_path / "stacks"):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
