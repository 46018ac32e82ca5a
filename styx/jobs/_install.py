"""Put the agent on a cluster: the file on every node, its config on the head, the daemon started.

Autostop travels in the agent's config: the task's setting, the cloud's action and the length
of a "minute" (STYX_AUTOSTOP_SECONDS_PER_MINUTE, 60 unless a test shortens it). The daemon
re-reads its config when it changes, so changing autostop re-configures without a restart.

Idempotent: a node whose copy has the shipped file's SHA-256 is left alone, and the daemon
is restarted only when the file it runs differs from the one now installed. Local nodes run
it as a pid-file daemon (their nodes are plain sshd sessions); elsewhere a systemd unit runs
it when systemd and passwordless sudo are there, else the same pid-file daemon.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from styx.agent import agent_sha256, agent_source
from styx.errors import JobError, StyxError
from styx.jobs._client import AGENT_COMMAND, AgentClient
from styx.jobs._model import AgentNode

__all__ = ["SECONDS_PER_MINUTE_VAR", "AgentInstall", "AutostopConfig", "install_agent",
           "seconds_per_minute"]

# How many seconds an autostop "minute" lasts on the agents this Styx configures (tests).
SECONDS_PER_MINUTE_VAR = "STYX_AUTOSTOP_SECONDS_PER_MINUTE"


def seconds_per_minute() -> float:
    """60, or what STYX_AUTOSTOP_SECONDS_PER_MINUTE says (a positive number)."""
    raw = os.environ.get(SECONDS_PER_MINUTE_VAR)
    if not raw:
        return 60.0
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise StyxError(f"{SECONDS_PER_MINUTE_VAR} must be a positive number of seconds, "
                        f"not {raw!r}")
    return value


@dataclass(frozen=True)
class AutostopConfig:
    """Autostop as the agent enforces it: the task's setting and the cloud's action."""

    setting: Mapping[str, object] | None  # idle_minutes, down, wait_for; None: off
    action: Mapping[str, object] | None

    def to_json(self) -> dict[str, object]:
        return {
            "autostop": dict(self.setting) if self.setting else None,
            "autostop_action": dict(self.action) if self.action else None,
            "seconds_per_minute": seconds_per_minute(),
        }


@dataclass(frozen=True)
class AgentInstall:
    """What installing did: the nodes that got a new copy, and whether the daemon (re)started."""

    copied_to: tuple[str, ...]
    daemon_started: bool
    daemon_pid: int
    sha256: str


def _copy_script(sha: str) -> str:
    # stdin is read in both branches, so the sender never meets a closed pipe.
    return (
        'd="$HOME/.styx-agent"; f="$d/agent.py"; '
        f'if [ -f "$f" ] && [ "$(sha256sum "$f" | cut -c1-64)" = {sha} ]; then '
        "cat >/dev/null; echo same; "
        'else mkdir -p "$d" && chmod 700 "$d" && cat > "$f.new" && chmod 600 "$f.new" '
        '&& mv "$f.new" "$f" && echo new; fi'
    )


def _systemd_script(user: str) -> str:
    # Only where systemd runs and sudo needs no password; otherwise the caller falls back.
    unit = "/etc/systemd/system/styx-agent.service"
    return (
        "command -v systemctl >/dev/null && [ -d /run/systemd/system ] && sudo -n true 2>/dev/null "
        f"&& {AGENT_COMMAND} systemd-unit --user {user} | sudo -n tee {unit} >/dev/null "
        "&& sudo -n systemctl daemon-reload && sudo -n systemctl enable styx-agent >/dev/null 2>&1 "
        "&& sudo -n systemctl restart styx-agent && echo systemd"
    )


def _known_hosts(nodes: Sequence[AgentNode]) -> str:
    lines = []
    for node in nodes:
        host = node.address if node.port == 22 else f"[{node.address}]:{node.port}"
        lines.append(f"{host} {node.host_public_key.strip()}\n")
    return "".join(lines)


def install_agent(
    client: AgentClient,
    nodes: Sequence[AgentNode],
    cluster: Mapping[str, str | None],
    autostop: AutostopConfig | None = None,
) -> AgentInstall:
    """Install (or upgrade) the agent on every node and start it on the head.

    `cluster` carries cluster, cloud, region and zone (for SKYPILOT_CLUSTER_INFO).
    """
    if autostop is not None and autostop.setting and not autostop.action:
        raise JobError(f"the {cluster.get('cloud')} cloud has no way to autostop a cluster",
                       cluster=client.access.cluster)  # fmt: skip
    sha = agent_sha256()
    source = agent_source()

    def copy(node: AgentNode) -> tuple[str, bool]:
        done = client.run([_copy_script(sha)], source, node=node.name, timeout=120)
        if done.returncode != 0:
            why = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
            raise JobError(
                f"could not copy the agent to {node.name}: {why[-1] if why else done.returncode}",
                cluster=client.access.cluster,
            )
        return node.name, done.stdout.decode().strip() == "new"

    with ThreadPoolExecutor(max_workers=min(16, len(nodes))) as pool:
        copied = [name for name, fresh in pool.map(copy, nodes) if fresh]
    key = client.access.private_key_path.read_text(encoding="utf-8")
    client.call(
        "configure",
        stdin={
            **dict(cluster),
            **(autostop or AutostopConfig(None, None)).to_json(),
            "nodes": [n.to_json() for n in sorted(nodes, key=lambda n: n.rank)],
            "private_key": key,
            "known_hosts": _known_hosts(nodes),
        },
    )
    head = client.access.head
    status = client.call("status")
    if status.get("running") and status.get("daemon_sha256") == sha:
        # The daemon re-reads its config by itself; a restart would drop held job secrets.
        return AgentInstall(tuple(copied), False, int(status.get("pid") or 0), sha)
    if cluster.get("cloud") != "local":
        done = client.run([_systemd_script(head.user)], b"", timeout=120)
        if done.stdout.decode(errors="replace").strip() == "systemd":
            started = client.call("status")
            return AgentInstall(tuple(copied), True, int(started.get("pid") or 0), sha)
    started = client.call("start")
    return AgentInstall(tuple(copied), bool(started["started"]), int(started["pid"]), sha)
