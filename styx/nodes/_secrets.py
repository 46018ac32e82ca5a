"""Hand secrets to Ansible through a named pipe, so their values never rest in a file.

ansible-runner records the whole environment and command line of every run in its artifacts,
and extra vars are a file or an argument: none of these may carry a secret. Instead the
playbook reads `cat <fifo>` once (a run_once set_fact with no_log), and a thread of ours
writes the secrets into the pipe for that one reader. A FIFO stores nothing on disk.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

__all__ = ["export_lines", "secret_fifo"]


def export_lines(secrets: Mapping[str, str]) -> str:
    """Shell `export NAME=value` lines that set the secrets in the shell that evaluates them."""
    return "".join(
        f"export {name}={shlex.quote(value)}\n" for name, value in sorted(secrets.items())
    )


def _serve(path: Path, payload: bytes, stop: threading.Event) -> None:
    # Once only: the playbook reads it once (run_once). Serving again could not work anyway,
    # as a writer that reopens at once joins the first reader's stream before it reaches EOF.
    fd = os.open(path, os.O_WRONLY)  # blocks until a reader opens the pipe
    try:
        if stop.is_set():
            return
        view = memoryview(payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except BrokenPipeError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def secret_fifo(folder: Path, payload: str) -> Iterator[Path | None]:
    """A FIFO in `folder` that yields `payload` to its first reader, gone when the block ends.

    Yields None when there is nothing to hand over.
    """
    if not payload:
        yield None
        return
    path = folder / "secrets.fifo"
    path.unlink(missing_ok=True)
    os.mkfifo(path, 0o600)
    stop = threading.Event()
    server = threading.Thread(
        target=_serve, args=(path, payload.encode("utf-8"), stop), daemon=True, name="styx-secrets"
    )
    server.start()
    try:
        yield path
    finally:
        stop.set()
        # Opening the read end wakes a writer still blocked in open(): it sees `stop` and ends.
        reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            server.join(timeout=5)
        finally:
            os.close(reader)
            path.unlink(missing_ok=True)
