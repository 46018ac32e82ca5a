"""Dynamic providers: picklable by reference, validating inputs, diffing into update or replace."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from styx.clouds.local.provider import (
    LocalKeyPairProvider,
    LocalNetworkProvider,
    LocalNodeProvider,
)


@pytest.mark.parametrize(
    "provider", [LocalNetworkProvider(), LocalKeyPairProvider(), LocalNodeProvider()]
)
def test_providers_pickle_by_reference_and_load_elsewhere(provider: Any) -> None:
    blob = serialize_provider(provider)
    # By reference: the pickle names the class, it does not carry its code.
    assert len(base64.b64decode(blob)) < 300
    code = (
        "import base64, sys, dill; "
        "p = dill.loads(base64.b64decode(sys.argv[1])); print(type(p).__module__, type(p).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, blob], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == [type(provider).__module__, type(provider).__name__]


def test_key_pairs_recorded_under_the_old_module_still_load() -> None:
    # Stacks made before the key pair moved to styx.clouds._keypair name the old module;
    # a pickle by reference is that module and name (GLOBAL), which must still resolve.
    import dill

    old = b"cstyx.clouds.local.provider\nLocalKeyPairProvider\n."
    assert dill.loads(old) is LocalKeyPairProvider


def node_inputs(root: Path, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "cluster": "c1",
        "name": "head",
        "rank": 0,
        "address": "127.3.4.2",
        "port": 2222,
        "user": "someone",
        "root": str(root),
        "authorized_key": "ssh-ed25519 AAAA key",
        "state": "running",
    }
    base.update(changes)
    return base


def test_node_check_reports_every_bad_field(tmp_path: Path) -> None:
    bad = {
        **node_inputs(tmp_path, cluster="no/slash", state="paused", port=0, rank=-1),
        "root": "../outside-styx-home",
    }
    failures = LocalNodeProvider().check({}, bad).failures
    assert sorted(f.property for f in failures) == ["cluster", "port", "rank", "root", "state"]
    assert LocalNodeProvider().check({}, node_inputs(tmp_path)).failures == []


def test_a_root_relative_to_styx_home_is_the_same_input_as_its_absolute_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stacks recorded before paths were portable: no change, neither update nor replace."""
    monkeypatch.setenv("STYX_HOME", str(tmp_path))
    provider = LocalNodeProvider()
    absolute = {**node_inputs(tmp_path / "local" / "c" / "head", state="stopped"), "pid": 0}
    relative = {**absolute, "root": "local/c/head"}
    assert not provider.diff("c/head", absolute, relative).changes
    # Planned from another STYX_HOME, the relative input is unchanged: no change at all.
    assert not provider.diff("c/head", relative, dict(relative)).changes
    # A root that is really another folder is another node.
    moved = {**relative, "root": "local/c/elsewhere"}
    assert provider.diff("c/head", absolute, moved).replaces == ["root"]


def test_node_diff_update_versus_replace(tmp_path: Path) -> None:
    provider = LocalNodeProvider()
    olds = {**node_inputs(tmp_path, state="stopped"), "pid": 0, "host_public_key": "k"}
    same = provider.diff("id", olds, node_inputs(tmp_path, state="stopped"))
    assert same.changes is False
    start = provider.diff("id", olds, node_inputs(tmp_path))
    assert (start.changes, start.replaces) == (True, [])
    moved = provider.diff("id", olds, node_inputs(tmp_path, address="127.3.5.2", port=2200))
    assert (moved.changes, moved.replaces, moved.delete_before_replace) == (
        True,
        ["address"],
        True,
    )


def test_node_diff_sees_a_dead_server_without_a_refresh(tmp_path: Path) -> None:
    # The state recorded says running, but no server lives in that folder: that is drift.
    olds = {**node_inputs(tmp_path), "pid": 4242, "host_public_key": "k"}
    diff = LocalNodeProvider().diff("id", olds, node_inputs(tmp_path))
    assert (diff.changes, diff.replaces) == (True, [])


def test_node_read_of_a_vanished_folder_reports_it_gone(tmp_path: Path) -> None:
    result = LocalNodeProvider().read("c1/head", node_inputs(tmp_path / "gone"))
    assert result.id is None


def test_network_diff_replaces_on_any_input_change(tmp_path: Path) -> None:
    provider = LocalNetworkProvider()
    olds = {"cluster": "a", "registry": str(tmp_path / "r.json"), "cidr": "127.1.1.0/24"}
    news = {"cluster": "b", "registry": str(tmp_path / "r.json")}
    diff = provider.diff("x", olds, news)
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, ["cluster"], True)


def test_network_lifecycle_through_the_provider(tmp_path: Path) -> None:
    provider = LocalNetworkProvider()
    props = {"cluster": "a", "registry": str(tmp_path / "local" / "networks.json")}
    created = provider.create(props)
    assert created.outs is not None
    assert created.outs["cidr"] == created.id
    assert provider.read(created.id, created.outs).id == created.id
    provider.delete(created.id, created.outs)
    assert provider.read(created.id, created.outs).id is None


def test_key_pair_lifecycle_keeps_the_private_key_out_of_outputs(tmp_path: Path) -> None:
    provider = LocalKeyPairProvider()
    key_dir = tmp_path / "local" / "c1" / "keys"
    created = provider.create({"cluster": "c1", "key_dir": str(key_dir)})
    outs = created.outs or {}
    private = Path(outs["private_key_path"])
    assert private.parent == key_dir
    assert private.stat().st_mode & 0o777 == 0o600
    assert outs["public_key"].startswith("ssh-ed25519 ")
    assert "PRIVATE KEY" not in repr(outs)
    assert provider.read(created.id, outs).id == created.id
    provider.delete(created.id, outs)
    assert not key_dir.exists()
    assert not key_dir.parent.exists()  # the emptied cluster folder goes too
    assert provider.read(created.id, outs).id is None
