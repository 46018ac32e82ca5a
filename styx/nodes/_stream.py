"""Follow one log per node while a playbook runs, and keep each node's complete log locally."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from styx.nodes._model import ClusterAccess, NodeAccess, ProgressEvent
from styx.nodes._runner import AnsibleEvent
from styx.nodes._ssh import NodeTail, fetch_text

__all__ = ["LAST_LINES", "NodeStreams", "progress_of", "result_message"]

LAST_LINES = 20
_STATUS = {
    "runner_on_start": "started",
    "runner_on_failed": "failed",
    "runner_on_skipped": "skipped",
    "runner_on_unreachable": "unreachable",
}


def result_message(result: Mapping[str, Any]) -> str:
    """The most telling line of a task's result: its msg, else the end of its stderr."""
    for key in ("msg", "stderr", "module_stderr", "stdout"):
        value = result.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().splitlines()[-1]
    return ""


def progress_of(event: AnsibleEvent) -> ProgressEvent | None:
    """The progress a user sees for an Ansible event (None for events about no host's task)."""
    if event.host is None or event.task is None:
        return None
    if event.kind == "runner_on_ok":
        status = "changed" if event.result.get("changed") else "ok"
    elif event.kind in _STATUS:
        status = _STATUS[event.kind]
    else:
        return None
    message = result_message(event.result) if status in ("failed", "unreachable") else ""
    if status == "failed" and event.ignore_errors:
        message = (message + " (ignored)").strip()
    return ProgressEvent(node=event.host, task=event.task, status=status, message=message)


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
    ) -> None:
        self._cluster = cluster
        self._known_hosts = known_hosts
        self._folder = remote_folder
        self._log_dir = log_dir
        self._on_line = on_line
        self._tails: dict[str, NodeTail] = {}
        self._lock = threading.Lock()

    def log_path(self, node: str) -> Path:
        return self._log_dir / f"{node}.log"

    def start(self, node: NodeAccess) -> None:
        with self._lock:
            if node.name in self._tails:
                return
            tail = NodeTail(
                self._cluster,
                node,
                self._known_hosts,
                self._folder,
                self.log_path(node.name),
                self._on_line,
            )
            tail.start()
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
            path.parent.mkdir(parents=True, exist_ok=True)
            text = fetch_text(self._cluster, node, self._known_hosts, f"{self._folder}/output.log")
            path.write_text(text, encoding="utf-8")
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            text = ""
        return NodeLog(path=path, last_lines=tuple(text.splitlines()[-LAST_LINES:]))
