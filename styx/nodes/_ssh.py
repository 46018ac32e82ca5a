"""Plain SSH to nodes, beside Ansible: stream a log as it grows, fetch a file, close masters,
and say in one line why a connection failed (refused, host key, authentication, no answer)."""

from __future__ import annotations

import contextlib
import re
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Protocol

from styx import _supervise
from styx.errors import NodeError
from styx.nodes._model import ClusterAccess, NodeAccess

__all__ = [
    "LineSink",
    "NodeTail",
    "close_masters",
    "fetch_text",
    "host_key_refused",
    "ssh_argv",
    "ssh_cause",
    "ssh_options",
]

_CONNECT_TIMEOUT = 15
# A tail waits this long at most for the job to start on its node, then gives up by itself.
_WAIT_FOR_START = 300


# What OpenSSH prints (its words, in any wrapper such as Ansible's "Failed to connect to the
# host via ssh: ...") for each cause a user can act on.
_HOST_KEY = re.compile(
    r"Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|"
    r"host key is known for .* you have requested strict checking|"
    r"Host key for .* has changed"
)
_AUTH = re.compile(r"Permission denied \((?:publickey|password|keyboard-interactive)")
_REFUSED = re.compile(r"Connection refused")
_NO_ANSWER = re.compile(r"Connection timed out|No route to host|Operation timed out|"
                        r"Connection closed by .* port|Connection reset by")  # fmt: skip


def host_key_refused(text: str) -> bool:
    """Whether ssh refused the node because its host key is not the recorded one."""
    return _HOST_KEY.search(text) is not None


def ssh_cause(node: str, text: str) -> str:
    """The one-line cause of an ssh failure on `node`, from what ssh (or Ansible) printed.

    Each cause says what to do; anything else is the last line printed (ssh's own words).
    """
    if host_key_refused(text):
        return (f"host key of {node} changed: refusing to connect; if you replaced the node "
                "on purpose, `styx apply --accept-host-keys`")  # fmt: skip
    if _AUTH.search(text):
        return (f"authentication failed on {node}: it refused the cluster's key (its "
                "authorized_keys no longer holds it)")  # fmt: skip
    if _REFUSED.search(text):
        where = re.search(r"connect to host (\S+) port (\d+)", text)
        at = f" at {where[1]}:{where[2]}" if where else ""
        return f"connection refused by {node}{at}: no sshd answers there (is the node up?)"
    if _NO_ANSWER.search(text):
        return f"no answer from {node}: {_last_line(text)}"
    return f"{node}: {_last_line(text) or 'ssh failed and said nothing'}"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


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
    """The text of a file on the node ('' when it is missing). remote_path is relative to ~.

    NodeError, one line naming the node and the cause, when the node cannot be read.
    """
    timeout = 120
    try:
        done = subprocess.run(
            ssh_argv(cluster, node, known_hosts,
                     f'cat "$HOME"/{shlex.quote(remote_path)} 2>/dev/null'),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise NodeError(f"no answer from {node.name} within {timeout}s while reading "
                        f"~/{remote_path}", node=node.name) from None  # fmt: skip
    if done.returncode == 255:  # ssh's own failure; cat's is hidden and reads as ''
        raise NodeError(ssh_cause(node.name, done.stderr), node=node.name)
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
        # Under Styx's supervisor: a tail of a job that runs for hours must not outlive a
        # killed styx (its ssh would only notice at the job's next line of output).
        supervised = [sys.executable, "-I", "-S", str(Path(_supervise.__file__).resolve()),
                      "--grace", "0", "--", *self._argv]  # fmt: skip
        self._process = subprocess.Popen(
            supervised, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
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
            # SIGTERM, which the supervisor passes on to ssh; SIGKILL would orphan ssh.
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        return clean


def close_masters(control_dir: Path, *, prefix: str = "") -> None:
    """Ask every SSH connection master whose socket is in control_dir (and whose name starts
    with `prefix`) to exit now.

    Ansible's ssh leaves a ControlPersist master per host behind; it would outlive the command.

    Never raises: it runs in `finally` blocks, where an error would hide the real one. A
    master that does not answer is left to the supervisor, which kills what its command
    started (the master carries its tag).
    """
    if not control_dir.is_dir():
        return
    for socket_path in control_dir.iterdir():
        if socket_path.name.startswith(prefix) and socket_path.is_socket():
            with contextlib.suppress(subprocess.TimeoutExpired, OSError):
                subprocess.run(
                    ["ssh", "-F", "/dev/null", "-o", f"ControlPath={_quoted(socket_path)}",
                     "-O", "exit", "styx-node"],
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=15,
                    check=False,
                )  # fmt: skip
