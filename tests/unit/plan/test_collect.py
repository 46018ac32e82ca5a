"""Plan steps from engine events, fed in the engine's own JSON event format."""

from __future__ import annotations

from typing import Any

from pulumi.automation import EngineEvent, ResOutputsEvent

from styx.plan import SECRET, Action, DiffKind, steps_from_events

NODE = "pulumi-python:dynamic/styx-local:Node"


def urn(name: str, kind: str = NODE) -> str:
    return f"urn:pulumi:hello::styx::{kind}::{name}"


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


def test_creates_updates_replaces_and_deletes() -> None:
    events = [
        pre("create", "stack", kind="pulumi:pulumi:Stack"),
        pre("create", "hello-worker2", new={"rank": 2}),
        pre("update", "hello-head", old={"state": "stopped", "__provider": "x"},
            new={"state": "running", "__provider": "y"},
            diffs=["state", "__provider"],
            detailedDiff={"state": {"diffKind": "update", "inputDiff": True},
                          "__provider": {"diffKind": "update", "inputDiff": True}}),
        pre("create-replacement", "hello-worker1", new={"address": "b"}),
        pre("replace", "hello-worker1", old={"address": "a"}, new={"address": "b"},
            keys=["address"],
            detailedDiff={"address": {"diffKind": "update-replace", "inputDiff": True}}),
        pre("delete-replaced", "hello-worker1", old={"address": "a"}),
        pre("delete", "hello-worker3", old={"rank": 3}),
        pre("same", "hello-net"),
    ]
    steps, drift = steps_from_events(events)
    assert drift == ()
    assert [(s.action, s.name) for s in steps] == [
        (Action.CREATE, "hello-worker2"),
        (Action.UPDATE, "hello-head"),
        (Action.REPLACE, "hello-worker1"),
        (Action.DELETE, "hello-worker3"),
        (Action.SAME, "hello-net"),
    ]
    update, replace = steps[1], steps[2]
    assert [(c.path, c.kind, c.old, c.new) for c in update.changes] == [
        ("state", DiffKind.UPDATE, "stopped", "running")
    ]
    assert replace.replace_reasons == ("address",)
    assert replace.changes[0].replaces


def test_secret_values_are_masked() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
              "value": "hunter2"}
    events = [pre("update", "n", old={"token": secret}, new={"token": "[secret]"},
                  detailedDiff={"token": {"diffKind": "update", "inputDiff": True}})]
    (step,), _ = steps_from_events(events)
    assert step.changes[0].old == SECRET and step.changes[0].new == SECRET
    assert "hunter2" not in repr(step)


def outputs_event(pre_event: EngineEvent) -> EngineEvent:
    meta = pre_event.resource_pre_event.metadata  # type: ignore[union-attr]
    return EngineEvent(sequence=2, timestamp=0, res_outputs_event=ResOutputsEvent(meta))


def test_refresh_outputs_become_drift() -> None:
    recorded = {"state": "running", "pid": 7}
    events = [
        # The refresh's pre-event shows the recorded state twice: it is not drift yet.
        pre("refresh", "hello-worker1", old=recorded, new=recorded),
        outputs_event(pre("refresh", "hello-worker1", old=recorded,
                          new={"state": "stopped", "pid": 0})),
        outputs_event(pre("refresh", "hello-head", old={"state": "running"},
                          new={"state": "running"})),
    ]
    steps, drift = steps_from_events(events)
    assert steps == ()
    assert [(d.name, [(c.path, c.old, c.new) for c in d.changes]) for d in drift] == [
        ("hello-worker1", [("pid", 7, 0), ("state", "running", "stopped")])
    ]


def test_changes_are_derived_from_inputs_when_the_provider_names_none() -> None:
    events = [pre("update", "hello-worker1", old={"state": "stopped", "rank": 1},
                  new={"state": "running", "rank": 1})]
    (step,), _ = steps_from_events(events)
    assert [(c.path, c.old, c.new) for c in step.changes] == [("state", "stopped", "running")]
