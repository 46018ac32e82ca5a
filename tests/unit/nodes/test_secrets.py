"""Secrets go through a named pipe: readable while the run lasts, on disk never."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from styx.nodes._secrets import export_lines, secret_fifo


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
