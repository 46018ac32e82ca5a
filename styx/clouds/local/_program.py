"""The local cloud's inline program: declare each resource of the graph, nothing re-derived.

The graph says how many nodes, their names, ranks, sizes, port and state; the program adds
the paths under STYX_HOME (relative to it, so the same on every machine: see _paths.py)
and the login user. A node's address
is its rank's host number in the network's block, as `node_address` defines it.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pulumi

from styx.clouds._exports import export_cluster
from styx.clouds._keypair import LocalKeyPair, LocalKeyPairArgs
from styx.clouds._sdk import trim_sdk_costs
from styx.clouds.local._graph import KIND_KEY_PAIR, KIND_NETWORK, KIND_NODE
from styx.clouds.local._network import node_address
from styx.clouds.local._paths import LocalClusterPaths
from styx.clouds.local.provider import (
    NODE_OUTPUTS,
    LocalNetwork,
    LocalNetworkArgs,
    LocalNode,
    LocalNodeArgs,
)
from styx.errors import CloudError
from styx.graph import ResourceDecl, ResourceGraph

__all__ = ["build_program", "node_outputs"]


def _output(declared: Mapping[str, pulumi.Resource], value: Any) -> Any:
    """A `{"$ref": "name.output"}` as the declared resource's Output; anything else as is."""
    if isinstance(value, Mapping) and set(value) == {"$ref"}:
        name, _, attribute = str(value["$ref"]).partition(".")
        if name not in declared:
            raise CloudError(f"the graph refers to {name!r} before declaring it", cloud="local")
        return getattr(declared[name], attribute)
    return value


def _declare(decl: ResourceDecl, declared: dict[str, pulumi.Resource], paths: LocalClusterPaths,
             user: str) -> pulumi.Resource:
    args = decl.args
    opts = pulumi.ResourceOptions(depends_on=[declared[name] for name in decl.depends_on])
    if decl.kind == KIND_NETWORK:
        return LocalNetwork(decl.name, LocalNetworkArgs(
            cluster=args["cluster"], registry=str(paths.registry), prefix=args["prefix"]), opts)
    if decl.kind == KIND_KEY_PAIR:
        return LocalKeyPair(decl.name, LocalKeyPairArgs(
            cluster=args["cluster"], key_dir=str(paths.key_dir)), opts)
    if decl.kind == KIND_NODE:
        rank = int(args["rank"])
        cidr: pulumi.Output[str] = _output(declared, args["network"])
        return LocalNode(decl.name, LocalNodeArgs(
            cluster=args["cluster"],
            name=args["name"],
            rank=rank,
            address=cidr.apply(lambda block: node_address(block, rank)),
            port=args["port"],
            user=user,
            root=str(paths.node_dir(args["name"])),
            authorized_key=_output(declared, args["authorized_key"]),
            cpus=args.get("cpus"),
            memory_gb=args.get("memory_gb"),
            state=args["state"],
        ), opts)
    raise CloudError(f"the local program cannot declare {decl.kind!r}", cloud="local")


def node_outputs(nodes: list[LocalNode], ports: tuple[str, ...]) -> pulumi.Output[list[Any]]:
    """Per node, the fields styx.nodes reads back (NodeAccess's), in rank order.

    One Output over every node's fields, not one per node joined again: a 1,000-node plan
    then builds one chain of Outputs, not 2,000 (issue 17).
    """
    width = len(NODE_OUTPUTS)

    def rows(values: list[Any]) -> list[dict[str, Any]]:
        return [
            {**dict(zip(NODE_OUTPUTS, values[i:i + width], strict=True)), "ports": list(ports)}
            for i in range(0, len(values), width)
        ]

    return pulumi.Output.all(
        *(getattr(node, field) for node in nodes for field in NODE_OUTPUTS)
    ).apply(rows)


def build_program(graph: ResourceGraph, user: str | None = None) -> Callable[[], None]:
    """A program for the engine; the user is read now, in the planning process.

    Every path reaches the providers as an input relative to STYX_HOME, which the engine's
    plugin process is given (engine/_workspace.py) and resolves them against.
    """
    if graph.cloud != "local":
        raise CloudError(f"not a local graph (cloud {graph.cloud!r})", cloud="local")
    paths = LocalClusterPaths(Path(), graph.cluster)
    login = user or getpass.getuser()

    trim_sdk_costs()

    def program() -> None:
        declared: dict[str, pulumi.Resource] = {}
        for decl in graph.resources:
            declared[decl.name] = _declare(decl, declared, paths, login)
        by_name: dict[str, LocalNode] = {}
        key: LocalKeyPair | None = None
        for decl in graph.resources:
            resource = declared[decl.name]
            if isinstance(resource, LocalNode):
                by_name[decl.args["name"]] = resource
            elif isinstance(resource, LocalKeyPair):
                key = resource
        if key is None:
            raise CloudError("the local graph has no key pair", cloud="local")
        nodes = [by_name[name] for name in graph.nodes]
        # What each node is, for `styx status`: the cpus and memory it was given (None: the
        # host's, shared).
        first = next(d.args for d in graph.resources if d.kind == KIND_NODE)
        export_cluster(graph, node_outputs(nodes, graph.ports), key.private_key_path,
                       {"node_resources": {"cpus": first.get("cpus"),
                                           "memory_gb": first.get("memory_gb")}})

    return program
