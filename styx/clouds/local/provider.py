"""Pulumi dynamic providers and resources of the local cloud: network, key pair, node.

The engine runs these providers in its own plugin process (`python -m pulumi.dynamic`), which
unpickles them by reference from this module. So the classes hold no state, every path they
need arrives as an input, relative to STYX_HOME (which the engine passes the plugin) so the
inputs are the same on every machine, and the private key never enters the state: only its
path does.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from styx.clouds._home import home_id, home_path, made_elsewhere, same_input
from styx.clouds._keypair import LocalKeyPair, LocalKeyPairArgs, LocalKeyPairProvider
from styx.clouds.local import _network, _sshd

__all__ = [
    "NODE_OUTPUTS",
    "NODE_STATES",
    "LocalKeyPair",
    "LocalKeyPairArgs",
    "LocalKeyPairProvider",
    "LocalNetwork",
    "LocalNetworkArgs",
    "LocalNetworkProvider",
    "LocalNode",
    "LocalNodeArgs",
    "LocalNodeProvider",
]

NODE_STATES = ("running", "stopped")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def _remove_if_empty(folder: Path) -> None:
    """Drop the cluster's folder once its last node, key and network are gone."""
    with contextlib.suppress(OSError):
        folder.rmdir()


# Inputs that are paths: an absolute one recorded before stacks were portable is the same
# input as its form relative to STYX_HOME (styx/clouds/_home.py).
_PATHS = ("registry", "key_dir", "root")


def _changed(olds: Mapping[str, Any], news: Mapping[str, Any], keys: tuple[str, ...]) -> list[str]:
    # An unknown (still computed) new value compares unequal to anything, as it should.
    return [key for key in keys if olds.get(key) != news.get(key)
            and not (key in _PATHS and same_input(olds.get(key), news.get(key)))]  # fmt: skip


def _check_name(field: str, value: Any, failures: list[CheckFailure]) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        failures.append(
            CheckFailure(field, f"{field} must be 1-63 letters, digits, '-', '_' or '.'")
        )


def _check_path(field: str, value: Any, failures: list[CheckFailure]) -> None:
    if not isinstance(value, str) or not value or ".." in Path(value).parts:
        failures.append(CheckFailure(
            field, f"{field} must be a path relative to STYX_HOME (or an absolute one)"))


# ---------------------------------------------------------------------------------------------
# Network


class LocalNetworkProvider(ResourceProvider):
    """A block of 127.0.0.0/8 (a /24, or larger for big clusters) held in the registry.

    Inputs: cluster, registry, prefix.
    """

    _INPUTS = ("cluster", "registry", "prefix")

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        _check_name("cluster", news.get("cluster"), failures)
        _check_path("registry", news.get("registry"), failures)
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        prefix = int(props.get("prefix") or 24)
        cidr = _network.allocate_network(home_path(props["registry"]), props["cluster"], prefix)
        return CreateResult(cidr, {**props, "cidr": cidr, "home": home_id()})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if made_elsewhere(props):
            return ReadResult(id_, props)
        cidr = _network.registered_network(home_path(props["registry"]), props["cluster"])
        if cidr != props.get("cidr"):
            return ReadResult(None, {})
        return ReadResult(id_, props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # A network without `prefix` (made before it existed) is a /24.
        def sized(props: dict[str, Any]) -> dict[str, Any]:
            return {**props, "prefix": int(props.get("prefix") or 24)}

        changed = _changed(sized(olds), sized(news), self._INPUTS)
        # Delete first: the registry is keyed by cluster, so old and new cannot coexist.
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=True)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        registry = home_path(props["registry"])
        _network.release_network(registry, props["cluster"])
        _remove_if_empty(registry.parent / props["cluster"])


@dataclass(frozen=True)
class LocalNetworkArgs:
    """Inputs of a LocalNetwork."""

    cluster: pulumi.Input[str]
    registry: pulumi.Input[str]
    prefix: pulumi.Input[int] = 24


class LocalNetwork(Resource, module="styx-local", name="Network"):
    """The cluster's network; `cidr` is the /24 its nodes take their addresses from."""

    cluster: pulumi.Output[str]
    registry: pulumi.Output[str]
    cidr: pulumi.Output[str]

    def __init__(
        self, resource_name: str, args: LocalNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {
            "cluster": args.cluster,
            "registry": args.registry,
            "prefix": args.prefix,
            "cidr": None,
        }
        super().__init__(LocalNetworkProvider(), resource_name, props, opts)


# ---------------------------------------------------------------------------------------------
# Node


def _server(props: Mapping[str, Any]) -> _sshd.NodeServer:
    return _sshd.NodeServer(
        cluster=str(props["cluster"]),
        name=str(props["name"]),
        rank=int(props["rank"]),
        address=str(props["address"]),
        port=int(props["port"]),
        user=str(props["user"]),
        root=home_path(props["root"]),
        authorized_key=str(props["authorized_key"]),
    )


def _observed(props: Mapping[str, Any], host_public_key: str, pid: int | None) -> dict[str, Any]:
    # pid 0 rather than None for "no server": a None property reads as "unknown" to the engine.
    return {
        **props,
        "host_public_key": host_public_key,
        "pid": pid or 0,
        "state": "running" if pid is not None else "stopped",
        # Which machine's STYX_HOME made it: another one cannot see its server (an output).
        "home": home_id(),
    }


class LocalNodeProvider(ResourceProvider):
    """One node: an sshd on its own loopback address, with its own folder and host key.

    `state` is both an input (what is wanted) and an output (what `read` saw), so a server
    killed behind Styx's back shows as drift on refresh and `up` starts it again in place.
    """

    # Identity: changing any of these makes a different node (a new folder, address, host key).
    _REPLACE = ("cluster", "name", "rank", "address", "root")
    # Changing any of these needs a running server to restart to take effect.
    _RESTART = ("port", "user")
    _UPDATE = ("authorized_key", "cpus", "memory_gb", "state")
    _INPUTS = _REPLACE + _RESTART + _UPDATE

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        _check_name("cluster", news.get("cluster"), failures)
        _check_name("name", news.get("name"), failures)
        _check_path("root", news.get("root"), failures)
        if news.get("state") not in NODE_STATES:
            failures.append(CheckFailure("state", f"state must be one of {', '.join(NODE_STATES)}"))
        port = news.get("port")
        if not isinstance(port, (int, float)) or not 0 < int(port) < 65536:
            failures.append(CheckFailure("port", "port must be between 1 and 65535"))
        rank = news.get("rank")
        if not isinstance(rank, (int, float)) or int(rank) < 0:
            failures.append(CheckFailure("rank", "rank must be a whole number >= 0"))
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        server = _server(props)
        try:
            host_key = _sshd.prepare_node(server)
            pid = _sshd.start_node(server) if props["state"] == "running" else None
        except BaseException:
            # Create must leave nothing behind when it fails: the engine will not call delete.
            _sshd.delete_node(server.root)
            raise
        return CreateResult(f"{server.cluster}/{server.name}", _observed(props, host_key, pid))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if made_elsewhere(props):
            return ReadResult(id_, props)
        layout = _sshd.NodeLayout(home_path(props["root"]))
        if not layout.host_public_key.is_file():
            return ReadResult(None, {})
        host_key = layout.host_public_key.read_text(encoding="ascii").strip()
        outs = _observed(props, host_key, _sshd.server_pid(layout.root))
        # Report the observed state as the input too, so the next diff (and the plan) shows
        # `state: stopped -> running` rather than an update with no visible cause.
        inputs = {key: outs[key] for key in self._INPUTS if key in outs}
        return ReadResult(id_, outs, inputs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = _changed(olds, news, self._INPUTS)
        replaces = [key for key in changed if key in self._REPLACE]
        # Without a refresh the state still says running; a dead server is drift all the same
        # when the node is this machine's (another STYX_HOME's server is not to be seen here).
        if (
            "state" not in changed
            and olds.get("state") == "running"
            and olds.get("root")
            and not made_elsewhere(olds)
            and _sshd.server_pid(home_path(olds["root"])) is None
        ):
            changed.append("state")
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        server = _server(news)
        host_key = _sshd.prepare_node(server)
        if news["state"] == "running":
            if _changed(olds, news, self._RESTART):
                _sshd.stop_node(server.root)
            pid: int | None = _sshd.start_node(server)
        else:
            _sshd.stop_node(server.root)
            pid = None
        return UpdateResult(_observed(news, host_key, pid))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        root = home_path(props["root"])
        _sshd.delete_node(root)
        _remove_if_empty(root.parent)


@dataclass(frozen=True)
class LocalNodeArgs:
    """Inputs of a LocalNode; cpus and memory_gb are recorded for the plan, not enforced."""

    cluster: pulumi.Input[str]
    name: pulumi.Input[str]
    rank: pulumi.Input[int]
    address: pulumi.Input[str]
    port: pulumi.Input[int]
    user: pulumi.Input[str]
    root: pulumi.Input[str]
    authorized_key: pulumi.Input[str]
    cpus: pulumi.Input[float] | None = None
    memory_gb: pulumi.Input[float] | None = None
    state: pulumi.Input[str] = "running"


# What the program reads back of each node, in the order it exports them: NodeAccess's fields.
NODE_OUTPUTS = ("name", "rank", "address", "port", "user", "host_public_key", "state")


class LocalNode(Resource, module="styx-local", name="Node"):
    """A node of a local cluster; its outputs are what SSH and Ansible need to reach it.

    The program reads back only these (styx/clouds/_sdk.py): the other inputs (cluster,
    root, authorized_key, cpus, memory_gb) and outputs (pid, home) are in the engine's state
    all the same, without an Output attribute each in the planning process.
    """

    READ_BACK: ClassVar[frozenset[str]] = frozenset(NODE_OUTPUTS)

    name: pulumi.Output[str]
    rank: pulumi.Output[int]
    address: pulumi.Output[str]
    port: pulumi.Output[int]
    user: pulumi.Output[str]
    state: pulumi.Output[str]
    host_public_key: pulumi.Output[str]

    def __init__(
        self, resource_name: str, args: LocalNodeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props: dict[str, Any] = {
            "cluster": args.cluster,
            "name": args.name,
            "rank": args.rank,
            "address": args.address,
            "port": args.port,
            "user": args.user,
            "root": args.root,
            "authorized_key": args.authorized_key,
            "state": args.state,
            "host_public_key": None,  # an output: declared so that it can be read back
        }
        # Absent rather than None: a None input reads as "unknown until applied" to the engine.
        if args.cpus is not None:
            props["cpus"] = args.cpus
        if args.memory_gb is not None:
            props["memory_gb"] = args.memory_gb
        super().__init__(LocalNodeProvider(), resource_name, props, opts)
