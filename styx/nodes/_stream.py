"""Follow one log per node while a playbook runs, and keep each node's complete log locally.

The local copy is private (0600 in 0700 folders) and every known secret value in it, and in
the lines shown as they arrive, reads `[secret]`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from styx.errors import NodeError
from styx.home import open_private, write_private
from styx.nodes._model import ClusterAccess, NodeAccess, ProgressEvent
from styx.nodes._runner import AnsibleEvent
from styx.nodes._secrets import SecretMask
from styx.nodes._ssh import NodeTail, fetch_text

__all__ = [
    "LAST_LINES",
    "STDERR_TAIL",
    "MaskedLog",
    "NodeStreams",
    "progress_of",
    "result_message",
]

LAST_LINES = 20
_STATUS = {
    "runner_on_start": "started",
    "runner_on_failed": "failed",
    "runner_on_skipped": "skipped",
    "runner_on_unreachable": "unreachable",
}


# How many of a failed command's last stderr lines its one-line message carries.
STDERR_TAIL = 3


def result_message(result: Mapping[str, Any], mask: SecretMask | None = None) -> str:
    """The most telling line of a task's result, known secret values masked.

    A command that failed says its exit code and the last lines of its stderr (Ansible's
    msg, "non-zero return code", alone names no cause); anything else its msg, else the
    end of its stderr or output.
    """
    def masked(value: object) -> str:
        # Whole texts are masked before they are cut into lines: a secret of several lines
        # is masked whole.
        text = value if isinstance(value, str) else ""
        return mask.text(text) if mask is not None else text

    stderr = masked(result.get("stderr") or result.get("module_stderr"))
    rc = result.get("rc")
    tail = [line.strip() for line in stderr.splitlines() if line.strip()]
    if isinstance(rc, int) and rc != 0 and tail:
        return f"exit code {rc}; stderr: " + " | ".join(tail[-STDERR_TAIL:])
    for key in ("msg", "stderr", "module_stderr", "stdout"):
        value = masked(result.get(key))
        if value.strip():
            return value.strip().splitlines()[-1]
    return ""


def progress_of(event: AnsibleEvent, mask: SecretMask | None = None) -> ProgressEvent | None:
    """The progress a user sees for an Ansible event (None for events about no host's task)."""
    if event.host is None or event.task is None:
        return None
    if event.kind == "runner_on_ok":
        status = "changed" if event.result.get("changed") else "ok"
    elif event.kind in _STATUS:
        status = _STATUS[event.kind]
    else:
        return None
    message = result_message(event.result, mask) if status in ("failed", "unreachable") else ""
    if status == "failed" and event.ignore_errors:
        message = (message + " (ignored)").strip()
    return ProgressEvent(node=event.host, task=event.task, status=status, message=message)


class MaskedLog:
    """A node's local log: masked output written to a private file, complete lines to on_line."""

    def __init__(
        self, node: str, path: Path, mask: SecretMask, on_line: Callable[[str, str], None]
    ) -> None:
        self._node = node
        self._mask = mask
        self._on_line = on_line
        self._fd = open_private(path)
        self._partial = b""
        self._lock = threading.Lock()

    def write(self, raw: bytes) -> None:
        with self._lock:
            self._emit(self._mask.feed(raw))

    def close(self) -> None:
        with self._lock:
            if self._fd < 0:
                return
            self._emit(self._mask.flush())
            if self._partial:
                self._on_line(self._node, self._decode(self._partial))
                self._partial = b""
            os.close(self._fd)
            self._fd = -1

    def _emit(self, shown: bytes) -> None:
        if not shown or self._fd < 0:
            return
        view = memoryview(shown)
        while view:
            view = view[os.write(self._fd, view) :]
        *lines, self._partial = (self._partial + shown).split(b"\n")
        for line in lines:
            self._on_line(self._node, self._decode(line))

    @staticmethod
    def _decode(line: bytes) -> str:
        return line.decode("utf-8", errors="replace").rstrip("\r")


@dataclass(frozen=True)
class NodeLog:
    """A node's complete output, kept locally, and its last lines."""

    path: Path
    last_lines: tuple[str, ...]


class NodeStreams:
    """One NodeTail per node, each started when the node begins the streamed task."""

    def __init__(
        self,
        cluster: ClusterAccess,
        known_hosts: Path,
        remote_folder: str,
        log_dir: Path,
        on_line: Callable[[str, str], None],
        *,
        hidden: Iterable[str] = (),
    ) -> None:
        self._cluster = cluster
        self._known_hosts = known_hosts
        self._folder = remote_folder
        self._log_dir = log_dir
        self._on_line = on_line
        # Secret values to mask: each node's stream gets its own mask (it holds state).
        self._hidden = tuple(hidden)
        self._tails: dict[str, NodeTail] = {}
        self._lock = threading.Lock()

    def log_path(self, node: str) -> Path:
        return self._log_dir / f"{node}.log"

    def start(self, node: NodeAccess) -> None:
        with self._lock:
            if node.name in self._tails:
                return
            sink = MaskedLog(
                node.name, self.log_path(node.name), SecretMask(self._hidden), self._on_line
            )
            tail = NodeTail(self._cluster, node, self._known_hosts, self._folder, sink)
            try:
                tail.start()
            except BaseException:
                sink.close()
                raise
            self._tails[node.name] = tail

    def finish(self, finished: set[str], timeout: float = 10.0) -> dict[str, bool]:
        """Per node, whether its stream ended by itself, i.e. holds the whole output.

        Nodes in `finished` ran the streamed task to its end: their tails end on their own
        once the output is read, and get `timeout` seconds (together) to do so. The others
        never started it (skipped, unreachable), so their tails are stopped at once.
        """
        with self._lock:
            tails = dict(self._tails)
        deadline = time.monotonic() + timeout
        return {
            name: tail.finish(max(0.0, deadline - time.monotonic()) if name in finished else 0.0)
            for name, tail in tails.items()
        }

    def complete_log(self, node: NodeAccess, streamed_whole: bool) -> NodeLog:
        """The node's log: as streamed when the stream was whole, else fetched again."""
        path = self.log_path(node.name)
        if not streamed_whole:
            try:
                text = fetch_text(
                    self._cluster, node, self._known_hosts, f"{self._folder}/output.log"
                )
            except NodeError:
                text = None  # the node is gone: what was streamed is all there is
            if text is not None:
                write_private(path, SecretMask(self._hidden).text(text))
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            text = ""
        return NodeLog(path=path, last_lines=tuple(text.splitlines()[-LAST_LINES:]))
