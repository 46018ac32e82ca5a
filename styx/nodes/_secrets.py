"""Keep secret values out of files: a named pipe hands them to Ansible, a mask hides them in output.

ansible-runner records the whole environment and command line of every run in its artifacts,
and extra vars are a file or an argument: none of these may carry a secret. Instead the
playbook reads `cat <fifo>` once (a run_once set_fact with no_log), and a thread of ours
writes the secrets into the pipe for that one reader. A FIFO stores nothing on disk.

A job may still print a secret. `SecretMask` replaces every known secret value in the output
Styx streams and stores with `[secret]`, the way CI systems mask their logs: a value split
across reads is still caught (the possible start of a secret is held back until the rest
arrives), and so is a multi-line value, whole or line by line.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

__all__ = ["MASK", "SecretMask", "export_lines", "secret_fifo"]

MASK = b"[secret]"
# A line of a multi-line secret is masked on its own (the job may print the value re-indented
# or line by line) only when it is this long: masking every "}" or "-----" would shred logs.
_MIN_LINE_MASK = 8


class SecretMask:
    """Replace known secret values with `[secret]` in a stream of bytes fed in pieces.

    `feed` returns what can be shown now; `flush` returns the rest once the stream ends. A
    piece that ends with the start of some secret keeps that start back until the next piece
    says whether the secret follows, so a value split across reads never slips through.
    """

    def __init__(self, values: Iterable[str]) -> None:
        masks: set[bytes] = set()
        for value in values:
            if not value:
                continue
            masks.add(value.encode("utf-8"))
            if "\n" in value.strip("\n"):
                masks.update(
                    line.strip().encode("utf-8")
                    for line in value.splitlines()
                    if len(line.strip()) >= _MIN_LINE_MASK
                )
        # Longest first: a secret that contains another is masked whole.
        self._masks = sorted(masks, key=len, reverse=True)
        self._pattern = (
            re.compile(b"|".join(re.escape(m) for m in self._masks)) if self._masks else None
        )
        self._held = b""

    @property
    def active(self) -> bool:
        return self._pattern is not None

    def feed(self, data: bytes) -> bytes:
        if self._pattern is None:
            return data
        buffer = self._held + data
        cut = len(buffer) - self._pending_start(buffer)
        for match in self._pattern.finditer(buffer):
            if match.start() < cut < match.end():
                cut = match.start()  # never split a whole match between now and later
                break
        self._held = buffer[cut:]
        return self._pattern.sub(MASK, buffer[:cut])

    def flush(self) -> bytes:
        held, self._held = self._held, b""
        return self._pattern.sub(MASK, held) if self._pattern is not None else held

    def text(self, text: str) -> str:
        """`text`, whole, with every secret masked (a stream fed at once and flushed)."""
        if self._pattern is None:
            return text
        masked = self._pattern.sub(MASK, text.encode("utf-8", errors="surrogateescape"))
        return masked.decode("utf-8", errors="surrogateescape")

    def _pending_start(self, buffer: bytes) -> int:
        """Length of the longest end of `buffer` that is a proper start of some secret."""
        if not buffer:
            return 0
        last = buffer[-1:]
        longest = 0
        for mask in self._masks:
            # Only a start of the mask that ends in buffer's last byte can match; rfind skips
            # the rest, so a long secret (a key file) costs little per line of output.
            end = min(len(mask) - 1, len(buffer))
            while end > longest:
                at = mask.rfind(last, 0, end)
                if at < 0 or at + 1 <= longest:
                    break
                if buffer.endswith(mask[: at + 1]):
                    longest = at + 1
                    break
                end = at
        return longest


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
