"""One local node's OpenSSH server: lay out its folder, start, probe and stop it."""

from __future__ import annotations

import errno
import os
import shlex
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from styx._resources import data_path
from styx.clouds.local import _procs
from styx.errors import NodeError

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "NodeLayout",
    "NodeServer",
    "delete_node",
    "prepare_node",
    "probe",
    "server_pid",
    "start_node",
    "stop_node",
]

_START_TIMEOUT = 10.0
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Characters sshd_config cannot carry even inside quotes ('%' starts a token in key paths).
_UNSAFE = frozenset('"\\%\n\r\t')


@dataclass(frozen=True)
class NodeLayout:
    """Where a node keeps its files, all inside its root folder."""

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def config(self) -> Path:
        return self.root / "etc" / "sshd_config"

    @property
    def host_key(self) -> Path:
        return self.root / "etc" / "ssh_host_ed25519_key"

    @property
    def host_public_key(self) -> Path:
        return self.root / "etc" / "ssh_host_ed25519_key.pub"

    @property
    def authorized_keys(self) -> Path:
        return self.root / "etc" / "authorized_keys"

    @property
    def session(self) -> Path:
        return self.root / "bin" / "session"

    @property
    def pid_file(self) -> Path:
        return self.root / "run" / "sshd.pid"

    @property
    def log(self) -> Path:
        return self.root / "log" / "sshd.log"


@dataclass(frozen=True)
class NodeServer:
    """Everything needed to run one node's sshd."""

    cluster: str
    name: str
    rank: int
    address: str
    port: int
    user: str
    root: Path
    authorized_key: str

    @property
    def layout(self) -> NodeLayout:
        return NodeLayout(self.root)


def _binary(name: str) -> str:
    # sshd must be started by absolute path (it re-executes itself), and sbin is often not on PATH.
    found = shutil.which(name, path=f"{_SYSTEM_PATH}:{os.environ.get('PATH', '')}")
    if found is None:
        raise NodeError(
            f"{name} is not installed (Debian: apt-get install openssh-server)", node=None
        )
    return os.path.abspath(found)


def _sftp_server() -> str | None:
    for candidate in ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _shell() -> str:
    return "/bin/bash" if os.access("/bin/bash", os.X_OK) else "/bin/sh"


def _environment() -> jinja2.Environment:
    # Here: only starting a node renders sshd's config; reading a cluster must not pay Jinja.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_path("templates"))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["shquote"] = lambda value: shlex.quote(str(value))
    return env


def render_config(server: NodeServer) -> tuple[str, str]:
    """The sshd_config and the session wrapper for the node, as text."""
    layout = server.layout
    for path in (layout.root,):
        if _UNSAFE & set(str(path)):
            raise NodeError(
                f"the node folder {path} holds a character sshd_config cannot carry "
                '(one of " \\ % or a control character)',
                node=server.name,
            )
    values = {
        "cluster": server.cluster,
        "node": server.name,
        "rank": server.rank,
        "address": server.address,
        "port": server.port,
        "user": server.user,
        "root": str(layout.root),
        "home": str(layout.home),
        "host_key": str(layout.host_key),
        "pid_file": str(layout.pid_file),
        "authorized_keys": str(layout.authorized_keys),
        "session": str(layout.session),
        "marker": _procs.MARKER,
        "sftp_server": _sftp_server(),
        "shell": _shell(),
    }
    env = _environment()
    config = env.get_template("sshd_config.j2").render(values)
    session = env.get_template("node_session.sh.j2").render(values)
    return config, session


def prepare_node(server: NodeServer) -> str:
    """Create or refresh the node's folder; the node's host public key.

    The host key is kept across restarts (only delete makes a new one), so a stopped and
    restarted node still matches the known_hosts written for it.
    """
    layout = server.layout
    for folder in (
        layout.home,
        layout.config.parent,
        layout.session.parent,
        layout.pid_file.parent,
        layout.log.parent,
    ):
        folder.mkdir(parents=True, exist_ok=True)
    layout.root.chmod(0o700)
    if not (layout.host_key.is_file() and layout.host_public_key.is_file()):
        layout.host_key.unlink(missing_ok=True)
        layout.host_public_key.unlink(missing_ok=True)
        done = subprocess.run(
            [
                _binary("ssh-keygen"),
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                f"styx-{server.cluster}-{server.name}",
                "-f",
                str(layout.host_key),
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise NodeError(f"ssh-keygen failed: {done.stderr.strip()}", node=server.name)
    layout.authorized_keys.write_text(server.authorized_key.strip() + "\n", encoding="ascii")
    config, session = render_config(server)
    layout.config.write_text(config, encoding="utf-8")
    layout.session.write_text(session, encoding="utf-8")
    layout.session.chmod(0o700)  # run by the node's user, who is the only one: private
    return layout.host_public_key.read_text(encoding="ascii").strip()


def server_pid(root: Path) -> int | None:
    """The pid of the node's live sshd, or None (a reused pid that is not our sshd is None too)."""
    layout = NodeLayout(root)
    try:
        pid = int(layout.pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    if not _procs.is_alive(pid) or str(layout.config) not in _procs.cmdline(pid):
        return None
    return pid


def probe(address: str, port: int, timeout: float = 1.0) -> bool:
    """Whether an SSH server answers on address:port (it sends its banner first)."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            return conn.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def _check_port_free(server: NodeServer) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((server.address, server.port))
        except OSError as exc:
            why = "is in use by another process" if exc.errno == errno.EADDRINUSE else str(exc)
            raise NodeError(
                f"cannot start node {server.name}: {server.address}:{server.port} {why}",
                node=server.name,
            ) from exc


def _log_tail(layout: NodeLayout, lines: int = 5) -> str:
    try:
        text = layout.log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(text.strip().splitlines()[-lines:])


def start_node(server: NodeServer) -> int:
    """Start the node's sshd (a no-op when it already runs); its pid once it answers."""
    layout = server.layout
    running = server_pid(layout.root)
    if running is not None:
        return running
    # Kill leftovers (jobs of an earlier life whose server was killed) before a new life starts.
    stop_node(layout.root)
    if os.geteuid() == 0:
        # sshd running as root insists on its privilege-separation directory, which Debian's
        # service unit normally creates at boot; without the service it may be missing.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    _check_port_free(server)
    layout.pid_file.unlink(missing_ok=True)
    env = {"PATH": _SYSTEM_PATH, "LANG": "C.UTF-8", _procs.MARKER: str(layout.root)}
    argv = [_binary("sshd"), "-f", str(layout.config), "-E", str(layout.log)]
    cgroup = _procs.node_cgroup(layout.root)
    if cgroup is not None:
        # sshd starts inside the node's cgroup, so every process of the node stays there,
        # whatever it does to its session or environment.
        cgroup.mkdir(exist_ok=True)
        argv = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(cgroup / "cgroup.procs"),
                *argv]  # fmt: skip
    done = subprocess.run(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # Its own session: the engine kills its plugins' process groups when it exits.
        start_new_session=True,
        check=False,
    )
    if done.returncode != 0:
        detail = done.stderr.strip() or _log_tail(layout)
        raise NodeError(f"sshd for node {server.name} did not start: {detail}", node=server.name)
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        pid = server_pid(layout.root)
        if pid is not None and probe(server.address, server.port):
            return pid
        time.sleep(0.05)
    stop_node(layout.root)
    raise NodeError(
        f"sshd for node {server.name} did not answer on {server.address}:{server.port} "
        f"within {_START_TIMEOUT:g}s: {_log_tail(layout)}",
        node=server.name,
    )


def stop_node(root: Path) -> None:
    """Stop the node's sshd and kill every process the node started."""
    layout = NodeLayout(root)
    cgroup = _procs.node_cgroup(root)
    _procs.kill_cgroup(cgroup)
    # Ask for the server's pid afresh each round: once it is dead its number may be reused.
    survivors = _procs.kill_until_gone(lambda: _procs.node_processes(root, server_pid(root)))
    if survivors:
        raise NodeError(
            f"processes of the node in {root} survived SIGKILL: {sorted(survivors)}",
            node=root.name,
        )
    _procs.remove_cgroup(cgroup)
    layout.pid_file.unlink(missing_ok=True)


def delete_node(root: Path) -> None:
    """Stop the node and remove its folder (its processes are found even without it)."""
    stop_node(root)
    shutil.rmtree(root, ignore_errors=True)
