"""`styx compile` shows exactly what the program declares: for every example, on its cloud.

The program runs under Pulumi's mocks (the AWS provider cannot run here; local resources
are dynamic providers, whose registrations the mocks see the same way), and the set of
resources and lookups it declares is compared with `styx compile --format json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from click.testing import CliRunner

from styx.cli import cli
from styx.compile import program_for
from styx.workflow import compile_target, resolve_target

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.name for p in (REPO / "examples").glob("*.yaml"))
_DYNAMIC = "pulumi-python:dynamic/"


class Mocks(pulumi.runtime.Mocks):
    """Echo inputs as outputs, plus what the providers would compute for the exports."""

    def __init__(self) -> None:
        self.declared: list[tuple[str, str]] = []
        self.inputs: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        kind = args.typ.removeprefix(_DYNAMIC)
        self.declared.append((kind, args.name))
        self.inputs[args.name] = dict(args.inputs)
        outputs = dict(args.inputs)
        outputs.update(cidr="127.9.9.0/24", public_key="ssh-ed25519 AAAA",
                       private_key_path="/k/id", host_public_key="ssh-ed25519 BBBB",
                       publicIp="203.0.113.9", privateIp="10.0.0.9", instanceState="running",
                       keyName="k", name=args.name)
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        # A lookup (the AMI) is declared under its token; the graph names it by its own name.
        self.declared.append((args.token, "<lookup>"))
        return {"id": "ami-0123456789abcdef0", "architecture": "x86_64"}


@pytest.fixture(autouse=True)
def _fresh_runtime(styx_home: Path) -> Iterator[None]:
    pulumi.runtime.settings.reset_options()
    yield
    pulumi.runtime.settings.reset_options()


def _declared(graph_cluster: str, program: Any, monkeypatch: pytest.MonkeyPatch) -> Mocks:
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="styx", stack=graph_cluster, preview=False)
    exported: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", exported.__setitem__)

    @pulumi.runtime.test  # type: ignore[misc]
    def body() -> pulumi.Output[Any]:
        program()
        return pulumi.Output.all(*exported.values())

    body()
    return mocks


@pytest.mark.parametrize("example", EXAMPLES)
def test_compile_and_the_program_declare_the_same_resources(
    example: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = REPO / "examples" / example
    shown = CliRunner().invoke(cli, ["compile", str(path), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    compiled = json.loads(shown.output)
    graph = compile_target(resolve_target(path))
    mocks = _declared(graph.cluster, program_for(graph), monkeypatch)

    def key(kind: str, name: str) -> tuple[str, str]:
        return (kind, "<lookup>") if kind.endswith(":getAmi") else (kind, name)

    assert sorted(mocks.declared) == sorted(key(r["kind"], r["name"])
                                            for r in compiled["resources"])
    # And with the arguments compile shows, where the program passes them through as is.
    for resource in compiled["resources"]:
        if resource["kind"].startswith("styx-local:"):
            sent = mocks.inputs[resource["name"]]
            for arg, value in resource["args"].items():
                if not isinstance(value, dict) and arg != "network" and value is not None:
                    assert sent[arg] == value, (resource["name"], arg)
