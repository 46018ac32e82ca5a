"""declare_cluster under Pulumi mocks: the resources of a local cluster, and its outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from styx.clouds.local import NODE_PORT, declare_cluster
from styx.errors import CloudError


class Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.created: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        self.created.append(args)
        state = dict(args.inputs)
        state.pop("__provider", None)
        if args.typ.endswith(":Network"):
            state["cidr"] = "127.44.55.0/24"
        elif args.typ.endswith(":KeyPair"):
            state["public_key"] = "ssh-ed25519 AAAAcluster"
            state["private_key_path"] = state["key_dir"] + "/id_ed25519"
        elif args.typ.endswith(":Node"):
            state["host_public_key"] = f"ssh-ed25519 AAAA{state['name']}"
            state["pid"] = 1234
        return f"{args.name}-id", state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def mocks() -> Mocks:
    found = Mocks()
    pulumi.runtime.set_mocks(found, preview=False)
    return found


@pulumi.runtime.test
def test_cluster_declares_network_keys_and_ranked_nodes(mocks: Mocks, tmp_path: Path) -> Any:
    cluster = declare_cluster("train", 3, 2.0, None, tmp_path, user="alice")

    def check(nodes: list[dict[str, Any]]) -> None:
        # Nodes wait on the network's cidr, so they may register in any order among themselves.
        types = sorted((a.typ, a.name) for a in mocks.created)
        assert types == [
            ("pulumi-python:dynamic/styx-local:KeyPair", "train-keys"),
            ("pulumi-python:dynamic/styx-local:Network", "train-network"),
            ("pulumi-python:dynamic/styx-local:Node", "train-head"),
            ("pulumi-python:dynamic/styx-local:Node", "train-worker1"),
            ("pulumi-python:dynamic/styx-local:Node", "train-worker2"),
        ]
        by_name = {a.name: a for a in mocks.created}
        network, keys, head = by_name["train-network"], by_name["train-keys"], by_name["train-head"]
        assert network.inputs["registry"] == str(tmp_path / "local" / "networks.json")
        assert keys.inputs["key_dir"] == str(tmp_path / "local" / "train" / "keys")
        assert head.inputs["root"] == str(tmp_path / "local" / "train" / "head")
        assert head.inputs["authorized_key"] == "ssh-ed25519 AAAAcluster"
        assert head.inputs["cpus"] == 2.0 and "memory_gb" not in head.inputs
        assert head.inputs["state"] == "running"
        assert nodes == [
            {
                "name": name,
                "rank": rank,
                "address": f"127.44.55.{rank + 2}",
                "port": NODE_PORT,
                "user": "alice",
                "host_public_key": f"ssh-ed25519 AAAA{name}",
                "state": "running",
            }
            for rank, name in enumerate(["head", "worker1", "worker2"])
        ]

    return cluster.node_outputs().apply(check)


def test_cluster_size_is_checked(mocks: Mocks, tmp_path: Path) -> None:
    with pytest.raises(CloudError, match="1 to 1021 nodes"):
        declare_cluster("c", 0, None, None, tmp_path)
