"""The cluster's SSH key pair as a Pulumi dynamic resource, made on the machine that applies.

Every cloud's program declares one (local nodes and AWS instances both take its public
half): the private key stays in a 0600 file there, and only its path enters the state.
The engine's plugin process unpickles the provider by reference from this module, so it
holds no state and every path arrives as an input: `key_dir` relative to STYX_HOME (the
local cloud's, so the input is the same on every machine) or absolute. Its type keeps the
`styx-local` module name it was first recorded under, so existing stacks keep their key
pairs.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
)

from styx.clouds import _keys
from styx.clouds._home import home_id, home_path, made_elsewhere, same_input

__all__ = ["KIND", "LocalKeyPair", "LocalKeyPairArgs", "LocalKeyPairProvider"]

KIND = "styx-local:KeyPair"


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def _check_name(field: str, value: Any, failures: list[CheckFailure]) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        failures.append(
            CheckFailure(field, f"{field} must be 1-63 letters, digits, '-', '_' or '.'")
        )


def _check_path(field: str, value: Any, failures: list[CheckFailure]) -> None:
    if not isinstance(value, str) or not value or ".." in Path(value).parts:
        failures.append(CheckFailure(
            field, f"{field} must be a path relative to STYX_HOME (or an absolute one)"))



def _remove_if_empty(folder: Path) -> None:
    """Drop the cluster's folder once its last resource is gone."""
    with contextlib.suppress(OSError):
        folder.rmdir()


class LocalKeyPairProvider(ResourceProvider):
    """The cluster's SSH key pair in key_dir. Inputs: cluster, key_dir."""

    _INPUTS = ("cluster", "key_dir")

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures: list[CheckFailure] = []
        _check_name("cluster", news.get("cluster"), failures)
        _check_path("key_dir", news.get("key_dir"), failures)
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        pair = _keys.create_key_pair(home_path(props["key_dir"]), f"styx-{props['cluster']}")
        return CreateResult(
            f"{props['cluster']}-keys",
            {
                **props,
                "public_key": pair.public_key,
                "private_key_path": str(pair.private_key_path),
                "home": home_id(),
            },
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if made_elsewhere(props):
            return ReadResult(id_, props)
        pair = _keys.read_key_pair(home_path(props["key_dir"]))
        if pair is None:
            return ReadResult(None, {})
        outs = {
            **props,
            "public_key": pair.public_key,
            "private_key_path": str(pair.private_key_path),
        }
        return ReadResult(id_, outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # An absolute key_dir recorded before is the same input as its relative form now.
        changed = [key for key in self._INPUTS if olds.get(key) != news.get(key)
                   and not (key == "key_dir" and same_input(olds.get(key), news.get(key)))]
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=True)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        key_dir = home_path(props["key_dir"])
        _keys.delete_key_pair(key_dir)
        _remove_if_empty(key_dir.parent)


@dataclass(frozen=True)
class LocalKeyPairArgs:
    """Inputs of a LocalKeyPair."""

    cluster: pulumi.Input[str]
    key_dir: pulumi.Input[str]


class LocalKeyPair(Resource, module="styx-local", name="KeyPair"):
    """The cluster's key pair: `public_key` for the nodes, `private_key_path` for SSH/Ansible."""

    cluster: pulumi.Output[str]
    key_dir: pulumi.Output[str]
    public_key: pulumi.Output[str]
    private_key_path: pulumi.Output[str]

    def __init__(
        self, resource_name: str, args: LocalKeyPairArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {
            "cluster": args.cluster,
            "key_dir": args.key_dir,
            "public_key": None,
            "private_key_path": None,
        }
        super().__init__(LocalKeyPairProvider(), resource_name, props, opts)


