"""A node that fails names its cause in one line: connection refused, a changed host key
(refused until `--accept-host-keys`), authentication, or the setup command's own stderr
(secrets masked). Real sshd, real engine, real ansible; one cluster shared by the cases,
each of which breaks one node and puts it right again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SECRET = "canary-7f3a9c-never-shown"
TASK = """\
name: nodefail
num_nodes: 2
secrets:
  TOKEN: null
setup: |
  {setup}
run: echo hi
"""
GOOD = 'echo "setting up rank $SKYPILOT_SETUP_NODE_RANK"'
FAILING = 'echo "step one"; echo "cannot reach the mirror with $TOKEN" >&2; exit 3'
HOST_KEY_LINE = ("error: host key of worker1 changed: refusing to connect; if you replaced "
                 "the node on purpose, `styx apply --accept-host-keys`")  # fmt: skip


@dataclass
class Cluster:
    home: Path
    work: Path

    def styx(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "STYX_HOME": str(self.home), "TOKEN": SECRET}
        env.pop("STYX_DEBUG", None)
        return subprocess.run(
            [sys.executable, "-m", "styx", *args], capture_output=True, text=True, env=env,
            cwd=self.work, timeout=900, check=False,
        )  # fmt: skip

    def apply(self, *extra: str, task: str = "good.yaml") -> subprocess.CompletedProcess[str]:
        return self.styx("apply", task, "-y", "--secret", "TOKEN", *extra)

    def plan(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.styx("plan", "good.yaml", "--secret", "TOKEN", *extra)

    def node(self, name: str) -> Path:
        return self.home / "local" / "nodefail" / name

    def hup_sshd(self, name: str) -> None:
        """sshd re-reads its configuration and host key on SIGHUP (same pid, re-executed)."""
        pid = int((self.node(name) / "run" / "sshd.pid").read_text())
        os.kill(pid, signal.SIGHUP)
        time.sleep(1)  # sshd re-executes itself; a connection before that is refused


def error_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """The error a failed command ends with: exit 1, no traceback, error: lines last."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    first = max(i for i, line in enumerate(lines) if line.startswith("error: "))
    return lines[first:]


def no_secret_anywhere(cluster: Cluster, *procs: subprocess.CompletedProcess[str]) -> None:
    """The secret reached neither the terminal nor any file Styx keeps (nodes' own homes
    are the nodes')."""
    for proc in procs:
        assert SECRET not in proc.stdout + proc.stderr
    nodes = cluster.home / "local"
    for path in cluster.home.rglob("*"):
        if path.is_file() and nodes not in path.parents:
            assert SECRET.encode() not in path.read_bytes(), path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("nodefail")
    (base / "home").mkdir()
    (base / "work").mkdir()
    cluster = Cluster(base / "home", base / "work")
    (cluster.work / "good.yaml").write_text(TASK.format(setup=GOOD))
    (cluster.work / "failing.yaml").write_text(TASK.format(setup=FAILING))
    applied = cluster.apply()
    assert applied.returncode == 0, applied.stderr
    yield cluster
    down = cluster.styx("down", "good.yaml", "--secret", "TOKEN", "-y", "-q")
    assert down.returncode == 0, down.stderr


def test_setup_failure_shows_its_stderr_tail_with_secrets_masked(cluster: Cluster) -> None:
    failed = cluster.apply(task="failing.yaml")
    lines = error_lines(failed)
    assert lines[0] == "error: setup failed on head in task 'Run setup': setup exited with code 3"
    assert "  cannot reach the mirror with [secret]" in lines
    assert "setup failed on worker1 in task 'Run setup': setup exited with code 3" in lines
    no_secret_anywhere(cluster, failed)
    assert cluster.apply().returncode == 0  # the next apply converges


def test_changed_host_key_is_refused_until_accepted(cluster: Cluster) -> None:
    etc = cluster.node("worker1") / "etc"
    for key in etc.glob("ssh_host_ed25519_key*"):
        key.unlink()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(etc / "ssh_host_ed25519_key")], check=True)  # fmt: skip
    cluster.hup_sshd("worker1")

    plan = cluster.plan("--refresh", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stderr
    assert HOST_KEY_LINE.removeprefix("error: ") in plan.stdout
    # Refused, and refused again: the first refusal did not record the new key either.
    for _ in range(2):
        assert error_lines(cluster.apply()) == [HOST_KEY_LINE]
    accepted = cluster.apply("--accept-host-keys")
    assert accepted.returncode == 0, accepted.stderr
    assert "accepting the host keys the cloud reports now for worker1" in accepted.stderr
    again = cluster.plan("--refresh", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "host key" not in again.stdout


def test_authentication_failure_names_the_node(cluster: Cluster) -> None:
    keys = cluster.node("worker1") / "etc" / "authorized_keys"
    saved = keys.read_text()
    other = cluster.work / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    keys.write_text(Path(f"{other}.pub").read_text())
    try:
        failed = cluster.apply("--env", "ROUND=2")  # setup must run on every node
        assert error_lines(failed) == [
            "error: setup failed on worker1: authentication failed on worker1: it refused the "
            "cluster's key (its authorized_keys no longer holds it)"
        ]
    finally:
        keys.write_text(saved)
    assert cluster.apply("--env", "ROUND=2").returncode == 0


def test_connection_refused_names_the_node_and_address(cluster: Cluster) -> None:
    config = cluster.node("worker1") / "etc" / "sshd_config"
    saved = config.read_text()
    listen = next(line for line in saved.splitlines() if line.startswith("ListenAddress "))
    address = listen.split()[1]
    moved = address.rsplit(":", 1)[0] + ":" + str(int(address.rsplit(":", 1)[1]) + 1)
    # sshd runs (its pid lives, so the cloud sees a running node) but no longer listens
    # where the stack says: every connection to the node is refused.
    config.write_text(saved.replace(listen, f"ListenAddress {moved}"))
    cluster.hup_sshd("worker1")
    try:
        failed = cluster.apply("--env", "ROUND=3")
        assert error_lines(failed) == [
            f"error: setup failed on worker1: connection refused by worker1 at "
            f"{address}: no sshd answers there (is the node up?)"
        ]
        assert (f"node worker1 is unreachable (connection refused by worker1 at {address}"
                in failed.stderr)  # fmt: skip
    finally:
        config.write_text(saved)
        cluster.hup_sshd("worker1")
    assert cluster.apply("--env", "ROUND=3").returncode == 0
