"""Secrets go through a named pipe (on disk never) and read `[secret]` in what a job prints."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from styx.nodes._secrets import SecretMask, export_lines, secret_fifo


def test_export_lines_quote_for_the_shell() -> None:
    lines = export_lines({"B": "it's $HOME", "A": "x y"})
    assert lines == "export A='x y'\nexport B='it'\"'\"'s $HOME'\n"
    done = subprocess.run(
        ["bash", "-c", 'eval "$(cat)"; printf "%s|%s" "$A" "$B"'],
        input=lines,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == "x y|it's $HOME"


def test_fifo_serves_its_reader_then_vanishes(tmp_path: Path) -> None:
    with secret_fifo(tmp_path, "export S='v'\n") as fifo:
        assert fifo is not None
        assert stat.S_ISFIFO(fifo.stat().st_mode)
        assert fifo.stat().st_mode & 0o777 == 0o600
        assert fifo.read_text() == "export S='v'\n"
    assert not fifo.exists()
    assert list(tmp_path.iterdir()) == []


def test_unread_fifo_still_closes(tmp_path: Path) -> None:
    with secret_fifo(tmp_path, "x") as fifo:
        assert fifo is not None
    assert list(tmp_path.iterdir()) == []


def test_no_secrets_no_fifo(tmp_path: Path) -> None:
    with secret_fifo(tmp_path, "") as fifo:
        assert fifo is None


# Masking what a job prints -------------------------------------------------------------


def fed(mask: SecretMask, pieces: list[bytes]) -> bytes:
    return b"".join(mask.feed(p) for p in pieces) + mask.flush()


def test_every_known_value_reads_secret() -> None:
    mask = SecretMask(["hunter2", "dev", ""])
    assert fed(mask, [b"pw=hunter2 env=dev\n", b"dev-hunter2dev\n"]) == (
        b"pw=[secret] env=[secret]\n[secret]-[secret][secret]\n"
    )


def test_a_value_split_across_reads_is_still_masked() -> None:
    secret = "s3cr3t-VALUE-4f9a1c"
    text = f"before {secret} after {secret}".encode()
    # Every way of cutting the stream in two, and byte by byte.
    for cut in range(len(text) + 1):
        mask = SecretMask([secret])
        assert fed(mask, [text[:cut], text[cut:]]) == b"before [secret] after [secret]"
    mask = SecretMask([secret])
    shown = [mask.feed(text[i : i + 1]) for i in range(len(text))]
    assert b"".join(shown) + mask.flush() == b"before [secret] after [secret]"
    assert all(secret.encode()[:4] not in piece for piece in shown)


def test_the_start_of_a_secret_is_held_only_until_it_turns_out_not_to_be_one() -> None:
    mask = SecretMask(["abcdef"])
    assert mask.feed(b"x abc") == b"x "
    assert mask.feed(b"xyz\n") == b"abcxyz\n"
    assert mask.feed(b"line without a secret\n") == b"line without a secret\n"


def test_a_multi_line_secret_is_masked_whole_and_line_by_line() -> None:
    key = "-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAA\nQABAAABAQC7\n-----END KEY-----"
    mask = SecretMask([key])
    lines = [line.encode() + b"\n" for line in f"cat:\n{key}\ndone".splitlines()]
    out = fed(mask, lines)
    assert out == b"cat:\n[secret]\ndone\n"
    # Re-indented by the job: each long enough line is still a secret on its own.
    mask = SecretMask([key])
    out = fed(mask, [b"  " + line.encode() + b"\n" for line in key.splitlines()])
    assert b"AAAAB3NzaC1yc2EAAA" not in out and b"QABAAABAQC7" not in out
    assert out.count(b"[secret]") == 4


def test_masking_whole_text_and_no_secrets() -> None:
    assert SecretMask(["tok"]).text("a tok b\n") == "a [secret] b\n"
    empty = SecretMask([])
    assert not empty.active
    assert empty.feed(b"x") == b"x" and empty.flush() == b""

