"""Plain SSH to nodes, beside Ansible: stream a log as it grows, fetch a file, close masters."""

from __future__ import annotations

import contextlib
import shlex
import subprocess
import threading
from pathlib import Path
from typing import IO, Protocol

from styx.nodes._model import ClusterAccess, NodeAccess

__all__ = ["LineSink", "NodeTail", "close_masters", "fetch_text", "ssh_argv", "ssh_options"]

_CONNECT_TIMEOUT = 15
# A tail waits this long at most for the job to start on its node, then gives up by itself.
_WAIT_FOR_START = 300


def _quoted(value: Path) -> str:
    # ssh splits some option values (UserKnownHostsFile takes a list) at spaces unless quoted.
    return f'"{value}"'


def ssh_options(cluster: ClusterAccess, known_hosts: Path) -> list[str]:
    """Options shared by Ansible's ssh and ours: this key only, host keys always checked.

    `-F /dev/null` keeps the user's ~/.ssh/config out; known_hosts is ours alone, and
    StrictHostKeyChecking=yes refuses a node whose key is not the one the stack recorded.
    """
    return [
        "-F", "/dev/null",
        "-o", "IdentitiesOnly=yes",
        "-o", "IdentityAgent=none",
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={_quoted(known_hosts)}",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", f"ConnectTimeout={_CONNECT_TIMEOUT}",
        "-o", "ServerAliveInterval=15",
        "-o", "LogLevel=ERROR",
    ]  # fmt: skip


def ssh_argv(cluster: ClusterAccess, node: NodeAccess, known_hosts: Path, remote: str) -> list[str]:
    """The full ssh command that runs `remote` on the node (no connection sharing)."""
    return [
        "ssh",
        *ssh_options(cluster, known_hosts),
        "-o", "ControlMaster=no",
        "-o", "ControlPath=none",
        "-i", str(cluster.private_key_path),
        "-p", str(node.port),
        "-l", node.user,
        node.address,
        remote,
    ]  # fmt: skip


def fetch_text(
    cluster: ClusterAccess, node: NodeAccess, known_hosts: Path, remote_path: str
) -> str:
    """The text of a file on the node ('' when it is missing). remote_path is relative to ~."""
    done = subprocess.run(
        ssh_argv(cluster, node, known_hosts, f'cat "$HOME"/{shlex.quote(remote_path)} 2>/dev/null'),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
    )
    return done.stdout


class LineSink(Protocol):
    """Where a tail's raw output goes (the local log keeper masks and stores it)."""

    def write(self, raw: bytes) -> None: ...

    def close(self) -> None: ...


class NodeTail:
    """Follow a file on one node while the process named by a pid file there lives.

    `folder` (relative to the node's home) holds `pid` (the job's shell) and `output.log`.
    Each line read goes to `sink`, which is closed when the stream ends. The remote side waits
    for the pid file, then runs `tail --pid`, which ends once the job has ended and its output
    is read.
    """

    def __init__(
        self,
        cluster: ClusterAccess,
        node: NodeAccess,
        known_hosts: Path,
        folder: str,
        sink: LineSink,
    ) -> None:
        self.node = node
        self._sink = sink
        d = f'"$HOME"/{shlex.quote(folder)}'
        remote = (
            f"d={d}; n=0; "
            # Give up when the job never starts here, or when our session is gone.
            f'while [ ! -s "$d/pid" ]; do '
            f"kill -0 $PPID 2>/dev/null || exit 3; n=$((n+1)); "
            f'[ "$n" -gt {_WAIT_FOR_START * 5} ] && exit 3; sleep 0.2; done; '
            f'exec tail -n +1 -s 0.2 -F --pid="$(cat "$d/pid")" "$d/output.log" 2>/dev/null'
        )
        self._argv = ssh_argv(cluster, node, known_hosts, remote)
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            self._argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert self._process.stdout is not None
        self._reader = threading.Thread(
            target=self._pump,
            args=(self._process.stdout,),
            daemon=True,
            name=f"tail-{self.node.name}",
        )
        self._reader.start()

    def _pump(self, stream: IO[bytes]) -> None:
        try:
            for raw in stream:
                self._sink.write(raw)
        finally:
            self._sink.close()

    @property
    def started(self) -> bool:
        return self._process is not None

    def finish(self, timeout: float) -> bool:
        """Wait for the tail to end by itself (killed after `timeout`); True if it ended cleanly."""
        if self._process is None:
            return False
        clean = False
        if timeout > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                clean = self._process.wait(timeout=timeout) == 0
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        return clean


def close_masters(control_dir: Path) -> None:
    """Ask every SSH connection master whose socket is in control_dir to exit now.

    Ansible's ssh leaves a ControlPersist master per host behind; it would outlive the command.
    """
    if not control_dir.is_dir():
        return
    for socket_path in control_dir.iterdir():
        if socket_path.is_socket():
            subprocess.run(
                ["ssh", "-F", "/dev/null", "-o", f"ControlPath={_quoted(socket_path)}",
                 "-O", "exit", "styx-node"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=15,
                check=False,
            )  # fmt: skip
