"""The setup digest changes exactly when something setup depends on changes."""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from styx.errors import NodeError
from styx.nodes import NodeWork, setup_digest
from styx.nodes._digest import Mount, make_bundle, remote_path, sync_script, tree_digest


class Hidden:
    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "wd"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "sub" / "b.sh").write_text("echo b")
    return root


def test_tree_digest_follows_content_mode_and_names_not_times(tree: Path) -> None:
    before = tree_digest(tree)
    os.utime(tree / "a.txt", (1, 1))
    assert tree_digest(tree) == before
    (tree / "sub" / "b.sh").chmod(0o755)
    after_chmod = tree_digest(tree)
    assert after_chmod != before
    (tree / "a.txt").write_text("A")
    assert tree_digest(tree) != after_chmod
    assert tree_digest(tree / "missing") == "missing"


def _bundle_view(work: NodeWork, tmp_path: Path) -> list[tuple[str, ...]]:
    """What the nodes receive: each member's name, kind, mode, link target and content."""
    bundle = tmp_path / "view.tar.gz"
    make_bundle(work, bundle)
    with tarfile.open(bundle) as tar:
        view = []
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            data = handle.read().decode() if handle is not None else ""
            view.append((member.name, member.type.decode(), oct(member.mode), member.linkname,
                         data))
    return view


MUTATIONS = {
    "chmod +x": lambda t: (t / "a.txt").chmod(0o755),
    "chmod 600": lambda t: (t / "a.txt").chmod(0o600),
    "new empty folder": lambda t: (t / "empty").mkdir(),
    "folder mode": lambda t: (t / "sub").chmod(0o700),
    "new symlink": lambda t: (t / "link").symlink_to("a.txt"),
    "content": lambda t: (t / "sub" / "b.sh").write_text("echo B"),
    "rename": lambda t: (t / "a.txt").rename(t / "c.txt"),
    "touch": lambda t: os.utime(t / "a.txt", (1, 1)),
    "touch folder": lambda t: os.utime(t / "sub", (1, 1)),
}


@pytest.mark.parametrize("change", sorted(MUTATIONS))
def test_setup_digest_changes_exactly_when_the_nodes_would_see_it(
    change: str, tree: Path, tmp_path: Path
) -> None:
    work = NodeWork(task_id="t", envs={}, secrets={}, file_mounts={}, workdir=tree, setup="x")
    digest, view = setup_digest(work), _bundle_view(work, tmp_path)
    MUTATIONS[change](tree)
    seen_by_nodes = _bundle_view(work, tmp_path) != view
    assert (setup_digest(work) != digest) == seen_by_nodes
    assert seen_by_nodes == (not change.startswith("touch"))


def test_the_plan_and_the_nodes_share_one_digest(tree: Path) -> None:
    # The plan records styx.graph.node_fields; setup compares setup_digest: one function.
    from styx.graph import node_fields
    from styx.spec import load_task

    task = tree.parent / "task.yaml"
    task.write_text(f"workdir: {tree}\nsetup: x\nenvs:\n  A: '1'\nsecrets:\n  S: one\n")
    spec = load_task(task)
    work = NodeWork(task_id="t", envs=dict(spec.envs), secrets=dict(spec.secrets),
                    file_mounts={}, workdir=spec.workdir, setup=spec.setup)
    assert node_fields(spec).setup_digest() == setup_digest(work)


def test_setup_digest_sees_every_input(tree: Path, tmp_path: Path) -> None:
    mount = tmp_path / "data.txt"
    mount.write_text("x")
    base = NodeWork(
        task_id="t",
        envs={"A": "1"},
        secrets={"S": "one"},
        file_mounts={"~/data.txt": str(mount)},
        workdir=tree,
        setup="echo hi",
    )
    digest = setup_digest(base)
    assert digest == setup_digest(base)
    # task_id and run are not setup's business.
    assert setup_digest(NodeWork(**{**base.__dict__, "task_id": "u", "run": "x"})) == digest
    for change in (
        {"envs": {"A": "2"}},
        {"secrets": {"S": "two"}},
        {"setup": "echo ho"},
        {"workdir": None},
        {"file_mounts": {}},
    ):
        assert setup_digest(NodeWork(**{**base.__dict__, **change})) != digest, change
    assert setup_digest(NodeWork(**{**base.__dict__, "secrets": {"S": Hidden("one")}})) == digest
    mount.write_text("y")
    assert setup_digest(base) != digest


def test_digest_does_not_contain_the_secret(tree: Path) -> None:
    work = NodeWork(task_id="t", secrets={"S": "hunter2"}, setup="true")
    assert "hunter2" not in setup_digest(work)


def test_bundle_holds_workdir_and_mounts(tree: Path, tmp_path: Path) -> None:
    single = tmp_path / "one.txt"
    single.write_text("1")
    work = NodeWork(
        task_id="t",
        workdir=tree,
        file_mounts={"/abs/dir": str(tree / "sub"), "~/conf/one.txt": str(single)},
    )
    mounts = make_bundle(work, tmp_path / "bundle.tar.gz")
    assert mounts == (Mount("/abs/dir", True), Mount("conf/one.txt", False))
    with tarfile.open(tmp_path / "bundle.tar.gz") as tar:
        assert sorted(tar.getnames()) == [
            "mounts/0",
            "mounts/0/b.sh",
            "mounts/1",
            "workdir",
            "workdir/a.txt",
            "workdir/sub",
            "workdir/sub/b.sh",
        ]
        assert {m.uid for m in tar.getmembers()} == {0}


def test_bundle_refuses_missing_and_remote_sources(tmp_path: Path) -> None:
    with pytest.raises(NodeError, match="does not exist"):
        make_bundle(
            NodeWork(task_id="t", file_mounts={"~/x": str(tmp_path / "no")}), tmp_path / "b"
        )
    with pytest.raises(NodeError, match="only local sources"):
        make_bundle(NodeWork(task_id="t", file_mounts={"~/x": "s3://bucket/x"}), tmp_path / "b")


@pytest.mark.parametrize(
    ("dst", "expected"),
    [("~/data", "data"), ("~", "."), ("~/", "."), ("/mnt/x", "/mnt/x"), ("rel/x", "rel/x")],
)
def test_remote_path(dst: str, expected: str) -> None:
    assert remote_path(dst) == expected


def test_sync_script_places_each_part(tree: Path, tmp_path: Path) -> None:
    """Run the script for real against a fake home: it is what the node runs."""
    single = tmp_path / "one.txt"
    single.write_text("1")
    work = NodeWork(
        task_id="t",
        workdir=tree,
        file_mounts={"~/data dir": str(tree / "sub"), "~/conf/one.txt": str(single)},
    )
    mounts = make_bundle(work, tmp_path / "bundle.tar.gz")
    staging = tmp_path / "staging"
    staging.mkdir()
    with tarfile.open(tmp_path / "bundle.tar.gz") as tar:
        tar.extractall(staging, filter="data")
    home = tmp_path / "home"
    (home / "sky_workdir").mkdir(parents=True)
    (home / "sky_workdir" / "kept.txt").write_text("stays")
    script = sync_script(True, mounts)
    env = {"HOME": str(home), "staging": str(staging), "PATH": os.environ["PATH"]}
    subprocess.run(["bash", "-c", script], env=env, check=True)
    assert (home / "sky_workdir" / "sub" / "b.sh").read_text() == "echo b"
    assert (home / "sky_workdir" / "kept.txt").read_text() == "stays"  # never deletes
    assert (home / "data dir" / "b.sh").read_text() == "echo b"
    assert (home / "conf" / "one.txt").read_text() == "1"
