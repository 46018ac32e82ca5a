"""A fixed plan with every kind of change, for the markdown and JSON goldens."""

from __future__ import annotations

import pytest

from styx.plan import SECRET, Action, DiffKind, NodeChange, Plan, PropertyChange, Step

NODE = "pulumi-python:dynamic/styx-local:Node"
NETWORK = "pulumi-python:dynamic/styx-local:Network"


def urn(name: str, kind: str = NODE) -> str:
    return f"urn:pulumi:hello::styx::{kind}::{name}"


def review_plan() -> Plan:
    """Create, update, replace, delete, node-level changes, drift, warnings and secrets.

    Some values carry what markdown must escape (a pipe, backticks, HTML, a dollar sign).
    """
    return Plan(
        project="styx",
        stack="hello",
        cloud="local",
        steps=(
            Step(Action.SAME, NETWORK, "hello-net", urn("hello-net", NETWORK)),
            Step(Action.CREATE, NODE, "hello-worker2", urn("hello-worker2")),
            Step(
                Action.UPDATE, NODE, "hello-worker1", urn("hello-worker1"),
                (
                    PropertyChange("env.HF_TOKEN", DiffKind.UPDATE, SECRET, SECRET),
                    PropertyChange("labels.team", DiffKind.ADD, None, "ml | `infra` <b>"),
                    PropertyChange("state", DiffKind.UPDATE, "stopped", "running"),
                    PropertyChange("tags", DiffKind.DELETE, {"b": 2, "a": [1, "$5"]}, None),
                ),
            ),
            Step(
                Action.REPLACE, NODE, "hello-worker3", urn("hello-worker3"),
                (PropertyChange("address", DiffKind.UPDATE, "127.0.4.5", "127.0.9.5", True),),
                ("address",),
            ),
            Step(Action.DELETE, NODE, "hello-worker4", urn("hello-worker4")),
        ),
        node_changes=(
            NodeChange("nodes", "1 new node: setup runs there", ("worker2",), True),
            NodeChange(
                "secrets", "secrets: changed HF_TOKEN: setup re-runs on 3 nodes",
                ("head", "worker1", "worker2"), True,
            ),
            NodeChange(
                "run", "run changed: the next `styx exec` runs the new command",
                ("head", "worker1"),
            ),
        ),
        drift=(
            Step(
                Action.UPDATE, NODE, "hello-head", urn("hello-head"),
                (
                    PropertyChange("password", DiffKind.UPDATE, SECRET, SECRET),
                    PropertyChange("state", DiffKind.UPDATE, "running", "stopped"),
                ),
            ),
            Step(Action.DELETE, NODE, "hello-worker4", urn("hello-worker4")),
        ),
        cost_before=0.51,
        cost_after=1.53,
        warnings=(
            "2 nodes × 4 CPUs = 8 CPUs oversubscribes this host's 2 cores",
            "<script>alert(1)</script> | *not* emphasis",
        ),
        stack_version=3,
        spec_hash="ab" * 32,
        git_commit="0123456789abcdef0123456789abcdef01234567",
        setup_nodes=("head", "worker1", "worker2"),
    )


@pytest.fixture
def review() -> Plan:
    return review_plan()
