"""Secrets never leave as values: from engine events and spec fields to every renderer's output."""

from __future__ import annotations

from typing import Any

from pulumi.automation import EngineEvent, ResOutputsEvent

from styx.plan import (
    SECRET,
    Plan,
    node_changes,
    plan_from_json,
    render_json,
    render_markdown,
    render_text,
    steps_from_events,
)

NODE = "pulumi-python:dynamic/styx-local:Node"
RAW = "hunter2-Zq8vX1-not-for-eyes"
OLD_RAW = "correct-horse-battery-staple"


def secret(value: str) -> dict[str, str]:
    """A value as the engine marks a secret in its events."""
    return {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": value}


def event(
    op: str, name: str, old: dict[str, Any] | None, new: dict[str, Any] | None, **extra: Any
) -> EngineEvent:
    urn = f"urn:pulumi:hello::styx::{NODE}::{name}"
    meta: dict[str, Any] = {"op": op, "urn": urn, "type": NODE, "provider": "", **extra}
    for key, props in (("old", old), ("new", new)):
        if props is not None:
            meta[key] = {"type": NODE, "urn": urn, "inputs": props, "outputs": props}
    return EngineEvent.from_json(
        {"sequence": 1, "timestamp": 0, "resourcePreEvent": {"metadata": meta}}
    )


def refreshed(name: str, recorded: dict[str, Any], observed: dict[str, Any]) -> list[EngineEvent]:
    """A refresh that found drift: its pre-event, then the outputs event with what it read."""
    pre = event("refresh", name, recorded, observed)
    meta = pre.resource_pre_event.metadata  # type: ignore[union-attr]
    return [pre, EngineEvent(sequence=2, timestamp=0, res_outputs_event=ResOutputsEvent(meta))]


def plan_with_secrets() -> Plan:
    """A plan made the way `styx plan` makes one, from inputs that hold raw secret values."""
    events = [
        event(
            "update",
            "hello-head",
            {"env": {"HF_TOKEN": secret(OLD_RAW), "MODE": "a"}, "password": secret(OLD_RAW)},
            {"env": {"HF_TOKEN": secret(RAW), "MODE": "b"}, "password": secret(RAW)},
            detailedDiff={
                "env": {"diffKind": "update", "inputDiff": True},
                "env.HF_TOKEN": {"diffKind": "update", "inputDiff": True},
                "password": {"diffKind": "update", "inputDiff": True},
            },
        ),
        event(
            "replace",
            "hello-worker1",
            {"token": secret(OLD_RAW), "address": "a"},
            {"token": secret(RAW), "address": "b"},
            keys=["token"],
            detailedDiff={"token": {"diffKind": "update-replace", "inputDiff": True}},
        ),
        event(
            "update",
            "hello-worker2",
            {"token": secret(OLD_RAW)},
            {"token": "[secret]"},
            diffs=["token"],
        ),
        *refreshed(
            "hello-worker3",
            {"key": secret(OLD_RAW), "state": "running"},
            {"key": secret(RAW), "state": "stopped"},
        ),
    ]
    steps, drift = steps_from_events(events)
    fields = {"setup": "echo hi", "envs": {"MODE": "b"}, "secrets": {"HF_TOKEN": RAW}}
    previous = {"setup": "echo hi", "envs": {"MODE": "a"}, "secrets": {"HF_TOKEN": OLD_RAW}}
    changes, setup_nodes = node_changes(previous, fields, ["head"], ["head", "worker1"])
    return Plan(
        "styx",
        "hello",
        "local",
        steps,
        changes,
        drift,
        warnings=("HF_TOKEN is a secret",),
        setup_nodes=setup_nodes,
    )


def outputs(plan: Plan) -> dict[str, str]:
    saved = render_json(plan)
    return {
        "text": render_text(plan),
        "text (colour)": render_text(plan, color=True),
        "markdown": render_markdown(plan),
        "markdown (cut)": render_markdown(plan, limit=4_096),
        "json": saved,
        "json read back": render_text(plan_from_json(saved)),
        "repr": repr(plan),
    }


def test_the_plan_carries_secrets_in_every_part() -> None:
    plan = plan_with_secrets()
    values = [(c.old, c.new) for s in plan.steps for c in s.changes]
    assert (SECRET, SECRET) in values
    assert {"HF_TOKEN": SECRET, "MODE": "a"} in [old for old, _ in values]
    assert [(c.old, c.new) for c in plan.drift[0].changes if c.path == "key"] == [(SECRET, SECRET)]
    assert any("HF_TOKEN" in c.summary and c.field == "secrets" for c in plan.node_changes)


def test_no_output_holds_a_secret_value() -> None:
    for name, text in outputs(plan_with_secrets()).items():
        assert RAW not in text, name
        assert OLD_RAW not in text, name
        assert SECRET in text, name


def test_the_secret_name_stays_visible() -> None:
    # Reviewers must see *that* a secret changed, only never its value.
    for name, text in outputs(plan_with_secrets()).items():
        assert "HF_TOKEN" in text.replace("\\_", "_"), name
