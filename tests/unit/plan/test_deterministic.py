"""The same change renders to the same bytes, whatever order the engine reported it in."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pulumi.automation import EngineEvent, ResOutputsEvent

from styx.plan import FORMATS, NodeChange, Plan, render, steps_from_events
from styx.plan._model import natural_key

NODE = "pulumi-python:dynamic/styx-local:Node"
NETWORK = "pulumi-python:dynamic/styx-local:Network"
NAMES = [f"big-worker{i}" for i in range(1, 13)]


def urn(name: str, kind: str = NODE) -> str:
    return f"urn:pulumi:big::styx::{kind}::{name}"


def pre(op: str, name: str, *, old: dict[str, Any] | None = None,
        new: dict[str, Any] | None = None, kind: str = NODE, **extra: Any) -> EngineEvent:
    meta: dict[str, Any] = {"op": op, "urn": urn(name, kind), "type": kind, "provider": "",
                            **extra}
    if old is not None:
        meta["old"] = {"type": kind, "urn": urn(name, kind), "inputs": old, "outputs": old}
    if new is not None:
        meta["new"] = {"type": kind, "urn": urn(name, kind), "inputs": new, "outputs": new}
    return EngineEvent.from_json(
        {"sequence": 1, "timestamp": 0, "resourcePreEvent": {"metadata": meta}}
    )


def refreshed(name: str, old: dict[str, Any], new: dict[str, Any]) -> EngineEvent:
    event = pre("refresh", name, old=old, new=new)
    meta = event.resource_pre_event.metadata  # type: ignore[union-attr]
    return EngineEvent(sequence=2, timestamp=0, res_outputs_event=ResOutputsEvent(meta))


def events() -> list[EngineEvent]:
    """Creates, updates with several properties, a replace, deletes, sames and drift."""
    out = [pre("same", "big-net", kind=NETWORK)]
    for i, name in enumerate(NAMES):
        if i % 4 == 0:
            out.append(pre("create", name, new={"rank": i}))
        elif i % 4 == 1:
            out.append(pre("update", name, old={"state": "stopped", "cpus": 1, "mem": 2},
                           new={"state": "running", "cpus": 2, "mem": 4},
                           diffs=["state", "mem", "cpus"]))
        elif i % 4 == 2:
            out.append(pre("replace", name, old={"address": "a"}, new={"address": "b"},
                           keys=["address"],
                           detailedDiff={"address": {"diffKind": "update-replace",
                                                     "inputDiff": True}}))
        else:
            out.append(pre("delete", name, old={"rank": i}))
    out += [
        refreshed("big-worker2", {"state": "running"}, {"state": "stopped"}),
        refreshed("big-worker10", {"state": "running", "pid": 1}, {"state": "stopped", "pid": 2}),
    ]
    return out


def plan_from(stream: list[EngineEvent], rng: random.Random) -> Plan:
    steps, drift = steps_from_events(stream)
    nodes = [f"worker{i}" for i in range(1, 13)]
    shuffled = rng.sample(nodes, len(nodes))
    changes = [
        NodeChange("run", "run changed: the next `styx exec` runs the new command",
                   tuple(rng.sample(nodes, len(nodes)))),
        NodeChange("nodes", "3 new nodes: setup runs there", tuple(rng.sample(nodes[-3:], 3)),
                   True),
        NodeChange("setup", "setup changed: setup re-runs on 12 nodes", tuple(shuffled), True),
    ]
    rng.shuffle(changes)
    return Plan(
        "styx", "big", "local", steps, tuple(changes), drift,
        cost_before=0.5, cost_after=1.5, warnings=("a warning",), stack_version=4,
        spec_hash="ab" * 32, setup_nodes=tuple(rng.sample(nodes, len(nodes))),
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_shuffled_events_render_identical_bytes(fmt: str) -> None:
    stream = events()
    first = render(plan_from(stream, random.Random(0)), fmt)  # type: ignore[arg-type]
    orders = set()
    for seed in range(1, 25):
        rng = random.Random(seed)
        shuffled = rng.sample(stream, len(stream))
        plan = plan_from(shuffled, rng)
        orders.add(tuple(s.urn for s in plan.steps))
        assert render(plan, fmt) == first, f"seed {seed}"  # type: ignore[arg-type]
    assert len(orders) > 10  # the steps really did arrive in different orders


def test_the_canonical_order_is_by_type_then_name_with_numbers_by_value() -> None:
    steps, _ = steps_from_events(random.Random(3).sample(events(), len(events())))
    plan = Plan("styx", "big", "local", steps).sorted()
    assert [s.name for s in plan.steps] == ["big-net", *NAMES]
    assert plan.sorted() == plan
    assert sorted(["w10", "w9", "head", "w1"], key=natural_key) == ["head", "w1", "w9", "w10"]
    assert sorted(["w²", "w٣", "w2", "w"], key=natural_key) == ["w", "w2", "w²", "w٣"]
    update = next(s for s in plan.steps if s.name == "big-worker2")
    assert [c.path for c in update.changes] == ["cpus", "mem", "state"]
