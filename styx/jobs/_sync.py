"""Files between here and the nodes around a job: the workdir before it, its logs after it.

The workdir goes to the nodes whose copy differs (by the tree's digest, styx.tree), as one
compressed bundle per node over SSH; logs come back from the head incrementally, masked.
"""

from __future__ import annotations

import io
import os
import shlex
import stat
import tarfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from styx.errors import JobError
from styx.jobs._client import AgentClient
from styx.tree import tree_digest, tree_entries

__all__ = ["WorkdirSync", "sync_logs", "sync_workdir"]


def _mask(data: bytes, secrets: Iterable[str]) -> bytes:
    for value in secrets:
        if value:
            data = data.replace(value.encode("utf-8"), b"[secret]")
    return data


def sync_logs(
    client: AgentClient, job_id: int, *, secrets: Iterable[str] = (), folder: Path | None = None
) -> Path:
    """Bring job `job_id`'s per-node logs to state_dir/logs/job-<id>/<node>.log (mode 0600).

    Only what the local copies lack is fetched. The agent masks the job's secrets as it
    writes; `secrets` known here are masked again, in case a log predates them.
    """
    target = folder or client.access.state_dir / "logs" / f"job-{job_id}"
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Each log's .offset says how far into the head's copy it has read (masking changes sizes).
    offsets = {p.stem: int(p.read_text() or 0) for p in target.glob("*.offset")}
    secrets = list(secrets)
    while True:
        texts, offsets, complete = client.log_chunks(job_id, offsets)
        if not any(texts.values()):
            break
        for node, data in texts.items():
            path = target / f"{node}.log"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "ab") as handle:
                handle.write(_mask(data, secrets))
            path.with_suffix(".offset").write_text(str(offsets[node]))
        if complete:
            break
    return target


@dataclass(frozen=True)
class WorkdirSync:
    """A workdir brought to the nodes before a job: which nodes, how many files and bytes."""

    digest: str
    nodes: tuple[str, ...]  # the nodes that received it (empty: every node had it already)
    files: int
    size: int  # bytes of the files in the tree
    sent: int  # bytes of the compressed bundle each node received

    def describe(self, workdir: Path) -> str:
        if not self.nodes:
            return f"workdir {workdir} unchanged on every node"
        return (f"synced workdir {workdir} ({self.files} file(s), {_bytes(self.size)}; "
                f"{_bytes(self.sent)} sent) to {', '.join(self.nodes)}")  # fmt: skip


def _bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


# What a node has in ~/sky_workdir: the digest of the last tree an exec synced there, valid
# while the node's setup digest is the one it was synced under (a later setup copied the
# applied workdir over it). Printed as "<setup digest> <synced setup digest> <synced tree>".
_READ = (
    'cd "$HOME/.styx" 2>/dev/null || { echo "- - -"; exit 0; }; '
    'set -- $(cat workdir.synced 2>/dev/null); '
    'echo "$(cat setup.digest 2>/dev/null || echo -) ${1:--} ${2:--}"'
)

_WRITE = """set -e
mkdir -p "$HOME/.styx" "$HOME/sky_workdir"
staging=$(mktemp -d "$HOME/.styx/workdir.XXXXXX")
trap 'rm -rf "$staging"' EXIT
tar -xzf - -C "$staging"
cp -a "$staging/workdir/." "$HOME/sky_workdir/"
printf '%s %s\\n' "$(cat "$HOME/.styx/setup.digest" 2>/dev/null || echo -)" {digest} \\
  > "$HOME/.styx/workdir.synced"
"""


def _node_has(client: AgentClient, node: str, applied: str | None) -> str | None:
    """The digest of the workdir tree node `node` holds (None: unknown, so it gets one)."""
    done = client.run(["sh", "-c", shlex.quote(_READ)], node=node, timeout=60)
    words = done.stdout.decode("utf-8", errors="replace").split()
    if done.returncode != 0 or len(words) != 3:
        why = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise JobError(f"{client.access.cluster}: cannot read the workdir record of {node}: "
                       f"{why[-1] if why else f'exit code {done.returncode}'}",
                       cluster=client.access.cluster)  # fmt: skip
    setup, synced_under, synced = words
    if synced != "-" and synced_under == setup:
        return synced
    return applied  # what the last setup copied there


def _bundle(workdir: Path) -> tuple[bytes, int, int]:
    """The tree as a .tar.gz (the entries the digest covers), its file count and size."""
    buffer = io.BytesIO()
    files = size = 0
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, entry in tree_entries(workdir):
            member = "workdir" if name == "." else f"workdir/{name}"
            kind = entry.lstat().st_mode
            if not (stat.S_ISREG(kind) or stat.S_ISDIR(kind) or stat.S_ISLNK(kind)):
                continue  # a socket, fifo or device: the digest leaves it out too
            info = tar.gettarinfo(str(entry), arcname=member)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if info.isreg():
                files += 1
                size += info.size
                with open(entry, "rb") as handle:
                    tar.addfile(info, handle)
            elif info.isdir() or info.issym():
                tar.addfile(info)
    return buffer.getvalue(), files, size


def sync_workdir(client: AgentClient, workdir: Path, applied: str | None) -> WorkdirSync:
    """Bring `workdir` to ~/sky_workdir on every node of the client's cluster that lacks it.

    `applied` is the workdir digest the last apply recorded (what setup copied to the
    nodes). Each node says what it holds; only the nodes whose tree differs receive it, as
    one compressed bundle over the SSH connection. Like setup (and SkyPilot's rsync), it
    adds and overwrites, never deletes.
    """
    if not workdir.is_dir():
        raise JobError(f"workdir {workdir} is not a folder", cluster=client.access.cluster)
    digest = tree_digest(workdir)
    names = [node.name for node in client.access.nodes]
    with ThreadPoolExecutor(max_workers=min(16, len(names))) as pool:
        holds = list(pool.map(lambda n: _node_has(client, n, applied), names))
    stale = [name for name, held in zip(names, holds, strict=True) if held != digest]
    if not stale:
        return WorkdirSync(digest, (), 0, 0, 0)
    data, files, size = _bundle(workdir)
    script = _WRITE.replace("{digest}", digest)

    def send(node: str) -> None:
        done = client.run(["bash", "-c", shlex.quote(script)], data, node=node, timeout=600)
        if done.returncode != 0:
            why = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
            raise JobError(f"{client.access.cluster}: syncing the workdir to {node} failed: "
                           f"{why[-1] if why else f'exit code {done.returncode}'}",
                           cluster=client.access.cluster)  # fmt: skip

    with ThreadPoolExecutor(max_workers=min(16, len(stale))) as pool:
        list(pool.map(send, stale))
    return WorkdirSync(digest, tuple(stale), files, size, len(data))
