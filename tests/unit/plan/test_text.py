"""The terminal renderer over a fixed plan with every kind of change (golden file)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from styx.plan import Action, DiffKind, NodeChange, Plan, PropertyChange, Step, render_text

GOLDEN = Path(__file__).parent / "golden"
NODE = "pulumi-python:dynamic/styx-local:Node"


def fixed_plan() -> Plan:
    urn = "urn:pulumi:dev::styx::" + NODE + "::"
    return Plan(
        project="styx",
        stack="hello",
        cloud="local",
        steps=(
            Step(Action.SAME, NODE, "hello-head", urn + "hello-head"),
            Step(Action.CREATE, NODE, "hello-worker2", urn + "hello-worker2"),
            Step(Action.UPDATE, NODE, "hello-worker1", urn + "hello-worker1",
                 (PropertyChange("state", DiffKind.UPDATE, "stopped", "running"),)),
            Step(Action.REPLACE, NODE, "hello-worker3", urn + "hello-worker3",
                 (PropertyChange("address", DiffKind.UPDATE, "127.0.4.5", "127.0.9.5", True),),
                 ("address",)),
            Step(Action.DELETE, NODE, "hello-worker4", urn + "hello-worker4"),
        ),
        node_changes=(
            NodeChange("nodes", "1 new node: setup runs there", ("worker2",), True),
            NodeChange("setup", "setup changed: setup re-runs on 3 nodes",
                       ("head", "worker1", "worker2"), True),
        ),
        drift=(
            Step(Action.UPDATE, NODE, "hello-worker1", urn + "hello-worker1",
                 (PropertyChange("state", DiffKind.UPDATE, "running", "stopped"),)),
        ),
        cost_before=0.0,
        cost_after=0.0,
        warnings=("2 nodes × 4 CPUs = 8 CPUs oversubscribes this host's 2 cores",),
        stack_version=3,
        spec_hash="ab" * 32,
        setup_nodes=("head", "worker1", "worker2"),
    )


def test_text_golden(golden: Callable[[Path, str], None]) -> None:
    golden(GOLDEN / "plan.txt", render_text(fixed_plan()))


def test_summary_line_counts_each_action() -> None:
    assert fixed_plan().summary() == (
        "Plan: 1 to create, 1 to update, 1 to replace, 1 to delete; setup runs on 3 nodes; "
        "cost $0.00/h -> $0.00/h"
    )


def test_no_changes_says_so() -> None:
    plan = Plan("styx", "hello", "local", steps=(Step(Action.SAME, NODE, "h", "u"),))
    text = render_text(plan)
    assert "No changes." in text
    assert "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete;" in text


def test_text_golden_over_the_review_plan(golden: Callable[[Path, str], None],
                                          review: Plan) -> None:
    # The same plan as the markdown and json goldens: every kind of change, drift, secrets.
    golden(GOLDEN / "review.txt", render_text(review))
