"""Talk to a cluster's agent: run its command on the head over one shared SSH connection.

Every call is `ssh head python3 ~/.styx-agent/agent.py SUBCOMMAND --json`; the first one opens
a connection master (ControlMaster, ControlPersist) under the stack's folder that later calls
reuse, so a `queue` costs one round trip, not a handshake. Host keys are checked against the
known_hosts Styx writes from the stack's outputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from styx import _supervise
from styx.errors import JobError
from styx.jobs._model import Job, JobRequest, LogLine
from styx.nodes import ClusterAccess, render_known_hosts
from styx.nodes._ssh import ssh_options

__all__ = ["AGENT_COMMAND", "AgentClient"]

AGENT_COMMAND = 'python3 "$HOME/.styx-agent/agent.py"'
# A Unix socket path holds 107 bytes; ssh's %C is 40 characters, and while binding it adds a
# temporary suffix of about 17. A longer path gets no connection sharing (still correct).
_MAX_SOCKET_PATH = 107 - 18
_PERSIST_SECONDS = 120


def _socket_dir() -> Path | None:
    """A short folder only this user can enter, for connection-master sockets; None if not.

    Not under the stack's folder: `~/.styx/stacks/styx/<cluster>/agent` passes the socket
    limit for most home folders and cluster names, and every agent call then paid a full SSH
    handshake (about 0.25 s each, five per exec). The runtime folder (or /tmp) is short; it
    is used only when it is ours and closed to others, since a socket there is a logged-in
    connection to the node.
    """
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"styx-{os.getuid()}"
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        info = base.lstat()
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077
    return base if private else None


class AgentClient:
    """The agent on one cluster's head node, as typed calls.

    `folder` holds the known_hosts file and the connection master's socket; the stack's
    folder (state_dir/agent) by default.
    """

    def __init__(self, access: ClusterAccess, folder: Path | None = None) -> None:
        self.access = access
        self.folder = folder or access.state_dir / "agent"
        self.known_hosts = self.folder / "known_hosts"
        self._ready = False
        self._ended: dict[int, Job] = {}  # jobs whose followed logs closed with their record

    def _prepare(self) -> None:
        """Write known_hosts (the stack's host keys) once, before the first connection."""
        if self._ready:
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = render_known_hosts(self.access)
        if not self.known_hosts.is_file() or self.known_hosts.read_text() != text:
            fd = os.open(self.known_hosts, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
        self._ready = True

    # -- plumbing --------------------------------------------------------------------------

    def _socket_prefix(self) -> str:
        # One set of masters per client folder (per stack): two homes may give different
        # clusters' nodes the same loopback address, and %C alone would then share a master.
        return hashlib.sha256(str(self.folder.resolve()).encode()).hexdigest()[:16] + "-"

    def _control(self) -> list[str]:
        sockets = _socket_dir()
        path = f"{sockets}/{self._socket_prefix()}%C" if sockets is not None else ""
        if not path or len(path) - 2 + 40 > _MAX_SOCKET_PATH:
            return ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
        return [
            "-o", "ControlMaster=auto",
            "-o", f'ControlPath="{path}"',
            "-o", f"ControlPersist={_PERSIST_SECONDS}",
        ]  # fmt: skip

    def argv(self, remote: str, node: str | None = None) -> list[str]:
        """The ssh command that runs `remote` on the head (or on `node`)."""
        self._prepare()
        target = self.access.node(node) if node else self.access.head
        return [
            "ssh",
            *ssh_options(self.access, self.known_hosts),
            *self._control(),
            "-i", str(self.access.private_key_path),
            "-p", str(target.port),
            "-l", target.user,
            target.address,
            remote,
        ]  # fmt: skip

    def run(
        self,
        args: Sequence[str],
        stdin: bytes | None = None,
        *,
        node: str | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run ssh to the head (or `node`) with `args` as the remote command; the raw result."""
        return subprocess.run(
            self.argv(" ".join(args), node),
            input=stdin if stdin is not None else b"",
            capture_output=True,
            timeout=timeout,
            check=False,
        )

    def call(
        self, *args: str, stdin: dict[str, Any] | None = None, timeout: float = 300
    ) -> dict[str, Any]:
        """Run one agent subcommand and return its JSON answer; JobError on any failure."""
        payload = json.dumps(stdin).encode("utf-8") if stdin is not None else None
        done = self.run([AGENT_COMMAND, *args, "--json"], payload, timeout=timeout)
        return self._answer(done, args[0] if args else "")

    def _answer(self, done: subprocess.CompletedProcess[bytes], what: str) -> dict[str, Any]:
        answer = _last_json(done.stdout)
        if isinstance(answer, dict) and "error" in answer:
            raise JobError(f"{self.access.cluster}: {answer['error']}", cluster=self.access.cluster)
        if done.returncode != 0 or not isinstance(answer, dict):
            why = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
            detail = why[-1] if why else f"exit code {done.returncode}"
            if "No such file" in detail or "can't open file" in detail:
                detail = "the agent is not installed on the head node (run `styx apply`)"
            raise JobError(
                f"{self.access.cluster}: agent {what} failed: {detail}", cluster=self.access.cluster
            )
        return answer

    # -- the API ---------------------------------------------------------------------------

    def submit(self, request: JobRequest) -> int:
        """Queue a job; its id. It starts as soon as its nodes have room (FIFO)."""
        return int(self.call("submit", stdin=request.to_json())["id"])

    def submit_if_current(self, request: JobRequest, daemon_sha256: str) -> int | None:
        """Queue a job only if the head's agent daemon runs the agent file of `daemon_sha256`:
        its id; None when the agent is not installed, not running, another version, or older
        than this question (then install it and `submit`). The version check and the submit
        in one SSH round trip, where a `status` call and a submit took two."""
        payload = json.dumps(request.to_json()).encode("utf-8")
        done = self.run([AGENT_COMMAND, "submit", "--expect-daemon", daemon_sha256, "--json"],
                        payload)  # fmt: skip
        answer = _last_json(done.stdout)
        if answer is not None and answer.get("outdated"):
            return None
        if done.returncode != 0 and (answer is None or "error" not in answer):
            return None  # no agent there, or one that does not know the flag
        return int(self._answer(done, "submit")["id"])

    def queue(self, jobs: Sequence[int] = ()) -> list[Job]:
        """Every job on the cluster (or the ones named), oldest first."""
        answer = self.call("queue", *(str(j) for j in jobs))
        return [Job.from_json(raw) for raw in answer["jobs"]]

    def job(self, job_id: int) -> Job:
        return self.queue([job_id])[0]

    def finished(self, job_id: int) -> Job:
        """The job as it ended: the record a followed log stream closed with (no second call),
        else the agent's answer now."""
        return self._ended.get(job_id) or self.job(job_id)

    def cancel(self, jobs: Sequence[int] = (), *, every: bool = False) -> list[int]:
        """Cancel jobs (or every unfinished one): all their processes end on all their nodes."""
        args = ["cancel", *(str(j) for j in jobs)]
        if every:
            args.append("--all")
        return [int(j) for j in self.call(*args)["cancelled"]]

    def wait(self, job_id: int, timeout: float = 0) -> Job:
        """Block until the job has ended (or `timeout` seconds passed, when given)."""
        args = ["wait", str(job_id)] + (["--timeout", str(timeout)] if timeout else [])
        remote_timeout = timeout + 60 if timeout else 7 * 24 * 3600
        return Job.from_json(self.call(*args, timeout=remote_timeout))

    def activity(self) -> dict[str, float]:
        """What autostop reads: last submit, last job end, jobs active and pending."""
        return {k: float(v) for k, v in self.call("activity").items()}

    def log_chunks(
        self, job_id: int, offsets: dict[str, int], node: str | None = None
    ) -> tuple[dict[str, bytes], dict[str, int], bool]:
        """What the logs gained since `offsets`: (text per node, new offsets, complete).

        Complete: the job has ended and this answer reached the end of every log, so asking
        again would bring nothing (an agent that does not say so is asked until it is empty).
        """
        args = ["logs", str(job_id), "--offsets", _quote(json.dumps(offsets))]
        if node:
            args += ["--node", node]
        answer = self.call(*args)
        texts = {name: part["text"].encode("utf-8") for name, part in answer["nodes"].items()}
        moved = {name: int(part["offset"]) for name, part in answer["nodes"].items()}
        complete = bool(answer["ended"]) and answer.get("more") is False
        return texts, {**offsets, **moved}, complete

    def logs(
        self, job_id: int, *, node: str | None = None, follow: bool = True
    ) -> Iterator[LogLine]:
        """The job's output, line by line; with follow, until the job ends (Ctrl-C stops
        following, not the job)."""
        if not follow:
            offsets: dict[str, int] = {}
            while True:
                texts, offsets, complete = self.log_chunks(job_id, offsets, node)
                for name, data in sorted(texts.items()):
                    for line in data.decode("utf-8", errors="replace").splitlines():
                        yield LogLine(name, line)
                if complete or not any(texts.values()):
                    return
        args = [AGENT_COMMAND, "logs", str(job_id), "--follow", "--json"]
        if node:
            args += ["--node", node]
        # Under Styx's supervisor: a follower of a job that runs for hours must not outlive a
        # killed styx (its ssh would only notice at the job's next line of output).
        supervised = [sys.executable, "-I", "-S", str(Path(_supervise.__file__).resolve()),
                      "--grace", "0", "--", *self.argv(" ".join(args))]  # fmt: skip
        process = subprocess.Popen(
            supervised,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        ended: list[dict[str, Any]] = []
        try:
            assert process.stdout is not None
            yield from _follow(process.stdout, self.access.cluster, ended)
        finally:
            if process.poll() is None:
                process.terminate()
            process.wait()
        if ended and isinstance(ended[0], dict) and ended[0]:
            self._ended[job_id] = Job.from_json(ended[0])
        if not ended:
            why = (process.stderr.read() if process.stderr else b"").decode(errors="replace")
            raise JobError(
                f"{self.access.cluster}: following job {job_id} stopped: {why.strip()}",
                cluster=self.access.cluster,
            )

    def close(self) -> None:
        """End the shared connections now instead of after their idle time."""
        sockets = _socket_dir()
        if sockets is not None:
            from styx.nodes._ssh import close_masters

            close_masters(sockets, prefix=self._socket_prefix())


def _last_json(stdout: bytes) -> dict[str, Any] | None:
    """The agent's answer: the JSON object on the last line of its output, if there is one."""
    text = stdout.decode("utf-8", errors="replace").strip()
    try:
        answer = json.loads(text.splitlines()[-1]) if text else None
    except json.JSONDecodeError:
        return None
    return answer if isinstance(answer, dict) else None


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _follow(stream: IO[bytes], cluster: str, ended: list[dict[str, Any]]) -> Iterator[LogLine]:
    for raw in stream:
        try:
            event = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if "error" in event:
            raise JobError(f"{cluster}: {event['error']}", cluster=cluster)
        if "text" in event:
            for line in str(event["text"]).splitlines():
                yield LogLine(str(event["node"]), line)
        if "end" in event:
            ended.append(event["end"] if isinstance(event["end"], dict) else {})
            return
