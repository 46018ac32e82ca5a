"""-i/--down/--cancel against the task's autostop, and `styx autostop`'s one-change rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from styx.cli.lifecycle import _only_autostop
from styx.errors import StyxError
from styx.plan import Action, NodeChange, Plan, PropertyChange, Step
from styx.plan._model import DiffKind
from styx.spec import Autostop, load_task
from styx.workflow import AutostopOverride, TargetOptions, compile_target, resolve_target


def _task(tmp_path: Path, autostop: str | None) -> Path:
    path = tmp_path / "t.yaml"
    extra = f"\n  autostop: {autostop}" if autostop else ""
    path.write_text(f"name: t\nresources:\n  cpus: 0.5{extra}\nrun: echo\n")
    return path


@pytest.mark.parametrize(("task", "flags", "expected"), [
    (None, AutostopOverride(10), Autostop(10)),
    ("{idle_minutes: 30, wait_for: jobs_and_ssh}", AutostopOverride(10),
     Autostop(10, False, "jobs_and_ssh")),
    ("30", AutostopOverride(down=True), Autostop(30, True)),
    (None, AutostopOverride(down=True), Autostop(5, True)),  # not SkyPilot's 0: see README
    ("30", AutostopOverride(cancel=True), None),
])
def test_flags_win_over_the_task(tmp_path: Path, task: str | None, flags: AutostopOverride,
                                 expected: Autostop | None) -> None:
    target = resolve_target(_task(tmp_path, task), TargetOptions(autostop=flags))
    assert target.spec.resources.autostop == expected
    assert load_task(_task(tmp_path, task)).fingerprint() != target.spec.fingerprint() or (
        task is not None and expected is not None and str(expected.idle_minutes) == task)


def test_a_stopped_target_compiles_every_node_stopped(tmp_path: Path, styx_home: Path) -> None:
    target = resolve_target(_task(tmp_path, None), TargetOptions(node_state="stopped"))
    graph = compile_target(target)
    states = [d.args["state"] for d in graph.resources if "state" in d.args]
    assert states == ["stopped"] and graph.node_state == "stopped"


def _plan(*, changes: tuple[NodeChange, ...] = (), steps: tuple[Step, ...] = ()) -> Plan:
    return Plan("styx", "t", "aws", steps, changes)


def test_styx_autostop_applies_autostop_alone() -> None:
    autostop = NodeChange("autostop", "autostop: none -> 10m idle, stop", ("head",))
    tags = Step(Action.UPDATE, "aws:ec2/instance:Instance", "t-head", "urn",
                (PropertyChange("tags.styx:spec-hash", DiffKind.UPDATE, "a", "b"),))
    _only_autostop(_plan(changes=(autostop,), steps=(tags,)))
    with pytest.raises(StyxError, match="changes more than autostop \\(setup\\)"):
        _only_autostop(_plan(changes=(autostop, NodeChange("setup", "setup changed"))))
    size = Step(Action.UPDATE, "x", "t-head", "urn",
                (PropertyChange("instanceType", DiffKind.UPDATE, "a", "b"),))
    with pytest.raises(StyxError, match="t-head"):
        _only_autostop(_plan(changes=(autostop,), steps=(size,)))
