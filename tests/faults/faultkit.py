"""The fault suite's harness (imported as `faultkit`): the real `styx`, killed on cue.

A case starts a command, waits for a condition that marks a phase (a node folder appears,
setup has begun on a node, ...), signals the styx process alone, and then checks what the
next commands say and that nothing of the cluster is left on the host.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wait_for(check: Callable[[], bool], timeout: float = 300.0, what: str = "a condition") -> None:
    """Poll `check` until it holds (generous timeout: two cores are shared)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def answers(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


class Styx:
    """Runs the real `styx` command for one task in its own STYX_HOME."""

    def __init__(self, home: Path, work: Path, name: str, task: str) -> None:
        self.home = home
        self.work = work
        self.name = name
        self.task = work / f"{name}.yaml"
        self.task.write_text(task)

    def env(self) -> dict[str, str]:
        return {**os.environ, "STYX_HOME": str(self.home)}

    def __call__(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "styx", *args], capture_output=True, text=True,
            env=self.env(), cwd=self.work, timeout=timeout,
        )  # fmt: skip

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "styx", *args], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=self.env(), cwd=self.work,
        )  # fmt: skip

    # -- what the host holds ------------------------------------------------------------

    @property
    def cluster_dir(self) -> Path:
        return self.home / "local" / self.name

    def node_home(self, node: str) -> Path:
        return self.cluster_dir / node / "home"

    @property
    def lock_file(self) -> Path:
        return self.home / "stacks" / "styx" / self.name / "styx.lock"

    def outcomes(self) -> dict[str, dict[str, object]]:
        path = self.home / "state" / ".styx" / "styx" / self.name / "outcomes.json"
        try:
            return dict(json.loads(path.read_text())["nodes"])
        except (OSError, ValueError):
            return {}

    def processes(self) -> list[int]:
        """Live processes that mention or carry this STYX_HOME (nodes, jobs, engine, ...)."""
        needle = str(self.home).encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                data = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
            except OSError:
                continue
            if needle in data and alive(int(entry.name)):
                found.append(int(entry.name))
        return found

    def helpers(self) -> list[int]:
        """Processes Styx started on this host that are not nodes: engine, plugin, ansible, ssh.

        They must all end with the command that started them.
        """
        nodes = set(self.cgroup_members())
        found = []
        for pid in self.processes():
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            # The job client's ssh connection master is left on purpose: later queue, logs
            # and cancel calls reuse it, and it ends by itself (ControlPersist) when idle.
            mux = b"[mux]" in Path(f"/proc/{pid}/cmdline").read_bytes() if Path(
                f"/proc/{pid}/cmdline").exists() else False
            if b"STYX_NODE_ROOT=" not in environ and pid not in nodes and not mux:
                found.append(pid)
        return found

    def cgroup_members(self) -> list[int]:
        """Members of this cluster's node cgroups (where the host has them)."""
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        roots = [line.split()[1] for line in mounts if line.split()[2:3] == ["cgroup2"]]
        base = Path(roots[0]) / "styx" if roots else Path("/nonexistent")
        key = hashlib.sha256(str(self.cluster_dir.resolve()).encode()).hexdigest()[:16]
        members: list[int] = []
        for procs in base.glob(f"c{key}-*/cgroup.procs") if base.is_dir() else []:
            members += [int(p) for p in procs.read_text().split()]
        return members

    def leftovers(self) -> list[str]:
        """Everything of the cluster still on the host: must be [] after a clean down."""
        left = []
        pids = sorted({p for p in self.processes() + self.cgroup_members() if alive(p)})
        if pids:
            left.append(f"processes {pids}: " + "; ".join(
                Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
                for p in pids if alive(p)
            ))  # fmt: skip
        if self.cluster_dir.exists():
            left.append(f"folder {self.cluster_dir}")
        registry = self.home / "local" / "networks.json"
        if registry.exists() and self.name in json.loads(registry.read_text()).get("clusters", {}):
            left.append("network entry")
        locks = list((self.home / "state" / ".pulumi" / "locks").rglob("*.json"))
        if locks:
            left.append(f"engine locks {locks}")
        if self.lock_file.exists() and self.lock_file.read_text().strip():
            left.append(f"styx lock note {self.lock_file.read_text()}")
        return left


def check(proc: subprocess.CompletedProcess[str], code: int = 0) -> str:
    assert proc.returncode == code, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout


def stop(proc: subprocess.Popen[str], signum: int, timeout: float = 300) -> tuple[int, str]:
    """Signal the styx process alone, wait for it; (exit code, its stderr)."""
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


