"""Setup for real: a two-node local cluster, ansible-runner, sshd, host keys checked.

One cluster serves the whole module (nodes start in well under a second, but each test's
playbooks are what take time). Its STYX_HOME is short on purpose, so Ansible's SSH
connection sharing is on and its masters must be closed by Styx.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from styx.clouds.local import LocalClusterPaths, node_address, node_name
from styx.clouds.local.provider import (
    LocalKeyPairProvider,
    LocalNetworkProvider,
    LocalNodeProvider,
)
from styx.errors import NodeError
from styx.nodes import (
    ClusterAccess,
    NodeWork,
    ProgressEvent,
    recorded_setup_digests,
    run_setup,
    setup_digest,
)

pytestmark = pytest.mark.integration

SECRET = "pa55-w0rd-that-must-not-land-on-disk"


@dataclass
class Cluster:
    home: Path
    fake_user_home: Path
    paths: LocalClusterPaths
    access: ClusterAccess
    nodes: list[dict[str, Any]]

    def node_home(self, rank: int) -> Path:
        return self.paths.node_dir(node_name(rank)) / "home"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    home = Path(tempfile.mkdtemp(prefix="styx-"))
    # Ansible on the controller side must not touch $HOME either: point it at an empty folder.
    fake_user_home = home.parent / (home.name + "-user-home")
    fake_user_home.mkdir()
    paths = LocalClusterPaths(home=home, cluster="ans")
    net = LocalNetworkProvider().create({"cluster": "ans", "registry": str(paths.registry)}).outs
    keys = LocalKeyPairProvider().create({"cluster": "ans", "key_dir": str(paths.key_dir)}).outs
    assert net is not None and keys is not None
    nodes: list[dict[str, Any]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STYX_HOME", str(home))
        patch.setenv("HOME", str(fake_user_home))
        try:
            for rank in range(2):
                outs = (
                    LocalNodeProvider()
                    .create(
                        {
                            "cluster": "ans",
                            "name": node_name(rank),
                            "rank": rank,
                            "address": node_address(net["cidr"], rank),
                            "port": 2222,
                            "user": getpass.getuser(),
                            "root": str(paths.node_dir(node_name(rank))),
                            "authorized_key": keys["public_key"],
                            "state": "running",
                        }
                    )
                    .outs
                )
                assert outs is not None
                nodes.append(outs)
            access = ClusterAccess.from_outputs(
                "ans", nodes, Path(keys["private_key_path"]), home / "stacks" / "proj" / "dev"
            )
            yield Cluster(home, fake_user_home, paths, access, nodes)
        finally:
            for node in nodes:
                LocalNodeProvider().delete("", node)
            LocalKeyPairProvider().delete("", keys)
            LocalNetworkProvider().delete("", net)
            shutil.rmtree(home, ignore_errors=True)
            shutil.rmtree(fake_user_home, ignore_errors=True)


def ssh_processes(cluster: Cluster) -> list[str]:
    """ssh clients still running for this cluster (its key or its STYX_HOME in the command)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and Path(argv[0].decode(errors="replace")).name == "ssh":
            line = b" ".join(argv).decode(errors="replace")
            if str(cluster.home) in line:
                found.append(line)
    return found


def files_containing(root: Path, needle: bytes) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if needle in path.read_bytes():
                    hits.append(path)
            except OSError:
                continue
    return hits


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "train.py").write_text("print('training')\n")
    (root / "pkg" / "mod.txt").write_text("module\n")
    return root


def test_setup_syncs_runs_and_then_skips_until_something_changes(
    cluster: Cluster, workdir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "shard.bin").write_bytes(b"\x00\x01")
    config = tmp_path / "config.yaml"
    config.write_text("lr: 0.1\n")
    work = NodeWork(
        task_id="task-setup",
        envs={"MODE": "{{ not a template }}"},
        secrets={"API_TOKEN": SECRET},
        file_mounts={"~/data": str(data), "~/conf/config.yaml": str(config)},
        workdir=workdir,
        setup=(
            'echo "setup on $SKYPILOT_SETUP_NODE_RANK of $SKYPILOT_NUM_NODES in $(pwd)"\n'
            'echo "mode=$MODE token_len=${#API_TOKEN}"\n'
            "ls ~/data ~/conf\n"
            "touch ~/setup-was-here\n"
        ),
    )
    events: list[ProgressEvent] = []
    result = run_setup(cluster.access, work, events.append)
    assert result.ok, result
    assert [n.status for n in result.nodes] == ["ran", "ran"]
    assert result.digest == setup_digest(work)
    for rank in range(2):
        home = cluster.node_home(rank)
        assert (home / "sky_workdir" / "pkg" / "mod.txt").read_text() == "module\n"
        assert (home / "data" / "shard.bin").read_bytes() == b"\x00\x01"
        assert (home / "conf" / "config.yaml").read_text() == "lr: 0.1\n"
        assert (home / "setup-was-here").exists()
        output = [e.message for e in events if e.status == "output" and e.node == node_name(rank)]
        assert output[0] == f"setup on {rank} of 2 in {home / 'sky_workdir'}"
        assert output[1] == f"mode={{{{ not a template }}}} token_len={len(SECRET)}"
        log = result.nodes[rank].log_path
        assert log is not None and log.read_text().splitlines()[:2] == output[:2]
    assert recorded_setup_digests(cluster.access.state_dir) == {
        "head": result.digest,
        "worker1": result.digest,
    }

    again = run_setup(cluster.access, work, lambda e: None)
    assert [n.status for n in again.nodes] == ["unchanged", "unchanged"]

    changed = NodeWork(**{**work.__dict__, "envs": {"MODE": "other"}})
    rerun = run_setup(cluster.access, changed, lambda e: None)
    # On failure, say why: a rare "failed" here (one in CI's second run of session 3) hid its cause.
    assert [n.status for n in rerun.nodes] == ["ran", "ran"], [
        (n.node, n.status, n.message, n.failed_task) for n in rerun.nodes]
    forced = run_setup(cluster.access, changed, lambda e: None, force=True)
    assert [n.status for n in forced.nodes] == ["ran", "ran"], [
        (n.node, n.status, n.message, n.failed_task) for n in forced.nodes]

    assert files_containing(cluster.home, SECRET.encode()) == []
    assert ssh_processes(cluster) == []


def test_failing_setup_names_the_node_and_its_last_lines(cluster: Cluster) -> None:
    work = NodeWork(
        task_id="task-bad-setup",
        setup=(
            'echo "preparing $SKYPILOT_SETUP_NODE_RANK"\n'
            'if [ "$SKYPILOT_SETUP_NODE_RANK" = 1 ]; then echo "disk full" >&2; exit 7; fi\n'
        ),
    )
    result = run_setup(cluster.access, work, lambda e: None)
    head, worker = result.nodes
    assert head.status == "ran"
    assert (worker.status, worker.failed_task) == ("failed", "Run setup")
    assert worker.message == "setup exited with code 7"
    assert worker.last_lines == ("preparing 1", "disk full")
    with pytest.raises(NodeError) as err:
        result.raise_for_failure()
    assert err.value.node == "worker1"
    assert "setup failed on worker1 in task 'Run setup': setup exited with code 7" in str(err.value)
    assert "  disk full" in str(err.value)
    # A failed setup is not recorded: the next run tries again on that node only.
    retry = run_setup(cluster.access, work, lambda e: None)
    assert [n.status for n in retry.nodes] == ["unchanged", "failed"]


def test_a_node_without_the_python_ansible_needs_says_so(cluster: Cluster) -> None:
    broken = dataclasses.replace(cluster.access, python="/no/such/python3")
    setup = run_setup(broken, NodeWork(task_id="t", setup="true"), lambda e: None)
    assert {n.status for n in setup.nodes} == {"failed"}
    assert "/no/such/python3" in (setup.nodes[0].message or "")


def test_nothing_is_written_to_the_real_home(cluster: Cluster) -> None:
    # Ansible expands ~ from the passwd file; a leak would show up in the user's real home.
    real_home = Path(os.path.expanduser(f"~{getpass.getuser()}"))
    before = {p.name for p in real_home.iterdir()}
    tmp = real_home / ".ansible" / "tmp"
    tmp_mtime = tmp.stat().st_mtime if tmp.exists() else None
    run_setup(cluster.access, NodeWork(task_id="t", setup="echo x > ~/x.txt", file_mounts={}),
              lambda e: None)  # fmt: skip
    assert {p.name for p in real_home.iterdir()} - before == set()
    assert (tmp.stat().st_mtime if tmp.exists() else None) == tmp_mtime
    assert not (real_home / "x.txt").exists()
    assert (cluster.node_home(0) / "x.txt").read_text() == "x\n"


def test_run_folders_go_when_runs_end_well_and_the_newest_failed_stay(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STYX_KEEP_FAILED_RUNS", "1")
    runs = cluster.access.state_dir / "runs"
    good = run_setup(cluster.access, NodeWork(task_id="t", setup="echo fine"), lambda e: None)
    assert good.ok and not good.private_dir.exists()
    broken = dataclasses.replace(cluster.access, python="/no/such/python3")
    first = run_setup(broken, NodeWork(task_id="t", setup="echo hi"), lambda e: None)
    assert first.private_dir.is_dir() and (first.private_dir / ".styx-failed").exists()
    assert (first.private_dir / "artifacts").is_dir()  # what Ansible said: the point of keeping
    second = run_setup(broken, NodeWork(task_id="t", setup="echo again"), lambda e: None)
    assert not second.ok
    assert sorted(runs.iterdir()) == [second.private_dir]  # only the newest failed one
    assert runs.stat().st_mode & 0o777 == 0o700
    assert second.private_dir.stat().st_mode & 0o777 == 0o700
