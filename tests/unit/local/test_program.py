"""The local program under Pulumi mocks: it declares the graph's resources, with their inputs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pulumi
import pytest

from styx.clouds._sdk import trim_sdk_costs
from styx.clouds.local import NODE_PORT, HostCatalog, compile_local
from styx.clouds.local._program import build_program
from styx.clouds.local.provider import LocalNode, LocalNodeArgs
from styx.errors import CloudError
from styx.spec import load_task

HOST = HostCatalog(cores=8, memory_gb=32)


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
def mocks() -> Iterator[Mocks]:
    pulumi.runtime.settings.reset_options()
    found = Mocks()
    pulumi.runtime.set_mocks(found, preview=False)
    yield found
    pulumi.runtime.settings.reset_options()


@pytest.fixture
def exports(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    found: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", found.__setitem__)
    return found


@pulumi.runtime.test
def test_program_declares_the_graphs_network_keys_and_ranked_nodes(
    mocks: Mocks, exports: dict[str, Any], tmp_path: Path
) -> Any:
    task = tmp_path / "train.yaml"
    task.write_text("num_nodes: 3\nresources:\n  cpus: 2\n  ports: 8888\n")
    graph = compile_local(load_task(task), "train", HOST)
    build_program(graph, "alice")()

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
        # Paths relative to STYX_HOME: the same inputs whichever machine (home) plans them.
        assert network.inputs["registry"] == "local/networks.json"
        assert network.inputs["prefix"] == 24
        assert keys.inputs["key_dir"] == "local/train/keys"
        assert head.inputs["root"] == "local/train/head"
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
                "ports": ["8888"],
            }
            for rank, name in enumerate(["head", "worker1", "worker2"])
        ]

    assert exports["cloud"] == "local" and exports["spec_hash"] == graph.spec_hash
    return exports["nodes"].apply(check)


@pulumi.runtime.test
def test_the_program_follows_the_graph_not_the_spec(
    mocks: Mocks, exports: dict[str, Any], tmp_path: Path
) -> Any:
    task = tmp_path / "t.yaml"
    task.write_text("num_nodes: 2\n")
    graph = compile_local(load_task(task), "c", HOST)
    # A graph edited after compile (one node fewer, another state) is what gets declared.
    head_only = replace(graph, resources=graph.resources[:3], nodes=graph.nodes[:1])
    stopped = replace(head_only.resources[2],
                      args={**head_only.resources[2].args, "state": "stopped"})
    build_program(replace(head_only, resources=(*head_only.resources[:2], stopped)),
                  "bob")()

    def check(_nodes: Any) -> None:
        nodes = [a for a in mocks.created if a.typ.endswith(":Node")]
        assert [(a.name, a.inputs["state"]) for a in nodes] == [("c-head", "stopped")]

    return exports["nodes"].apply(check)


def test_cluster_size_is_checked(tmp_path: Path) -> None:
    task = tmp_path / "t.yaml"
    task.write_text("name: c\n")
    with pytest.raises(CloudError, match="1 to 1021 nodes"):
        compile_local(replace(load_task(task), num_nodes=1022), "c", HOST)


@pytest.fixture
def type_derivations(monkeypatch: pytest.MonkeyPatch) -> list[type]:
    """Each class whose output types Pulumi's SDK derives, once per derivation."""
    from pulumi import _types

    derived: list[type] = []
    original = _types.resource_types

    def counting(cls: type) -> dict[str, type]:
        derived.append(cls)
        return original(cls)

    monkeypatch.setattr(_types, "resource_types", counting)
    return derived


@pulumi.runtime.test
def test_output_types_are_derived_once_per_class_not_per_node(
    mocks: Mocks, exports: dict[str, Any], type_derivations: list[type], tmp_path: Path
) -> Any:
    # The SDK builds a throwaway class per derivation: at 1,000 nodes, 1,000 classes for the
    # garbage collector to walk in the plan's process (issue 17).
    task = tmp_path / "wide.yaml"
    task.write_text("num_nodes: 6\nresources:\n  cpus: 0.5\n")
    build_program(compile_local(load_task(task), "wide", HOST), "alice")()

    def check(_nodes: Any) -> None:
        assert len(mocks.created) == 8  # network, keys, 6 nodes
        assert sorted(c.__name__ for c in type_derivations) == [
            "LocalKeyPair", "LocalNetwork", "LocalNode", "Stack"]

    return exports["nodes"].apply(check)


@pulumi.runtime.test
def test_a_node_has_attributes_for_what_is_read_back_and_sends_every_input(
    mocks: Mocks,
) -> Any:
    # An Output attribute per property costs four futures and an Output in the planning
    # process (issue 17); a node is read back for NodeAccess's fields only.
    trim_sdk_costs()
    node = LocalNode("c-head", LocalNodeArgs(
        cluster="c", name="head", rank=0, address="127.44.55.2", port=NODE_PORT, user="alice",
        root="local/c/head", authorized_key="ssh-ed25519 AAAAcluster", cpus=1.0))
    assert {"root", "authorized_key", "cluster", "cpus", "pid"}.isdisjoint(vars(node))
    assert set(vars(node)) >= LocalNode.READ_BACK

    def check(values: list[Any]) -> None:
        assert values == ["head", "ssh-ed25519 AAAAhead", "running"]
        inputs = mocks.created[0].inputs
        assert inputs["root"] == "local/c/head" and inputs["authorized_key"].endswith("cluster")
        assert inputs["cluster"] == "c" and inputs["cpus"] == 1.0

    return pulumi.Output.all(node.name, node.host_public_key, node.state).apply(check)


def test_no_source_positions_are_recorded() -> None:
    from pulumi.runtime import resource as sdk_resource

    trim_sdk_costs()
    assert list(sdk_resource._get_stack_trace().frames) == []
