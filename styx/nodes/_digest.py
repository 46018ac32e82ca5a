"""What setup depends on, as one digest; and the bundle that carries files to the nodes."""

from __future__ import annotations

import hashlib
import shlex
import tarfile
from dataclasses import dataclass
from pathlib import Path

from styx.errors import NodeError
from styx.graph import NodeFields
from styx.nodes._model import NodeWork, reveal
from styx.tree import tree_digest, tree_entries

__all__ = ["Mount", "make_bundle", "remote_path", "setup_digest", "sync_script", "tree_digest"]


def setup_digest(work: NodeWork) -> str:
    """One sha256 of everything setup depends on: the script, envs, secrets, mounts, workdir.

    Setup re-runs on a node only when this differs from the digest recorded there. It is the
    digest of the same node fields the plan diffs (styx.graph.NodeFields), so a change the
    plan shows as a setup re-run is one setup sees, and the reverse. Secrets are folded in as
    their own sha256, so a changed secret re-runs setup without the digest revealing it.
    """
    fields = NodeFields(
        setup=work.setup,
        run=work.run,
        envs=dict(work.envs),
        secrets={
            name: hashlib.sha256(reveal(value).encode("utf-8")).hexdigest()
            for name, value in work.secrets.items()
        },
        file_mounts={dst: tree_digest(Path(src)) for dst, src in work.file_mounts.items()},
        workdir=tree_digest(work.workdir) if work.workdir is not None else None,
        storage={dst: f"{m.url} {m.mode}" for dst, m in work.storage.items()},
    )
    return fields.setup_digest()


def _normalized(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Owned by whoever extracts it; the same tree gives the same members.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_tree(tar: tarfile.TarFile, source: Path, arcname: str) -> None:
    # The same entries, in the same order, as the digest covers (styx.tree).
    for name, entry in tree_entries(source):
        member = arcname if name == "." else f"{arcname}/{name}"
        tar.add(entry, arcname=member, recursive=False, filter=_normalized)


@dataclass(frozen=True)
class Mount:
    """A file mount as the node sees it: `dst` absolute or relative to the node's home."""

    dst: str
    is_dir: bool


def remote_path(dst: str) -> str:
    """A destination on the node, absolute or relative to its home (a leading ~/ dropped).

    Ansible would expand a leading ~ from the passwd file, not from the node's own $HOME, so
    the node's shell resolves home-relative paths itself.
    """
    if dst.startswith("/"):
        return dst
    if dst in ("~", "~/"):
        return "."
    return dst[2:] if dst.startswith("~/") else dst


def make_bundle(work: NodeWork, bundle: Path) -> tuple[Mount, ...]:
    """One .tar.gz with the workdir (as workdir/) and each mount (as mounts/<i>).

    One archive means one transfer per node, whatever the number of mounts.
    """
    mounts = []
    with tarfile.open(bundle, "w:gz") as tar:
        if work.workdir is not None:
            if not work.workdir.is_dir():
                raise NodeError(f"workdir {work.workdir} is not a folder")
            _add_tree(tar, work.workdir, "workdir")
        for index, (dst, src) in enumerate(sorted(work.file_mounts.items())):
            if "://" in src:
                raise NodeError(f"file_mounts {dst}: only local sources can be mounted, not {src}")
            source = Path(src)
            if not source.exists():
                raise NodeError(f"file_mounts {dst}: the source {src} does not exist")
            _add_tree(tar, source, f"mounts/{index}")
            mounts.append(Mount(dst=remote_path(dst), is_dir=source.is_dir()))
    return tuple(mounts)


def _on_node(path: str) -> str:
    return shlex.quote(path) if path.startswith("/") else f'"$HOME"/{shlex.quote(path)}'


def sync_script(has_workdir: bool, mounts: tuple[Mount, ...]) -> str:
    """Bash that puts an unpacked bundle ($staging) in place: workdir, then each mount.

    Like SkyPilot's rsync, it adds and overwrites but never deletes what is already there.
    """
    lines = ["set -e"]
    if has_workdir:
        lines.append('mkdir -p "$HOME/sky_workdir"')
        lines.append('cp -a "$staging/workdir/." "$HOME/sky_workdir/"')
    for index, mount in enumerate(mounts):
        target = _on_node(mount.dst)
        if mount.is_dir:
            lines.append(f"mkdir -p {target}")
            lines.append(f'cp -a "$staging/mounts/{index}/." {target}/')
        else:
            lines.append(f'mkdir -p "$(dirname {target})"')
            lines.append(f'cp -a "$staging/mounts/{index}" {target}')
    return "\n".join(lines) + "\n"
