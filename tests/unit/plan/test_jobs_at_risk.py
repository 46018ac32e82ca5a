"""The plan's warning for jobs on nodes a change replaces, stops or deletes (pure)."""

from __future__ import annotations

from styx.plan import Action, PropertyChange, RunningJob, Step, jobs_at_risk
from styx.plan._model import DiffKind

NODE = "styx-local:index:LocalNode"


def step(name: str, action: Action, *changes: PropertyChange) -> Step:
    return Step(action=action, type=NODE, name=name, urn=f"urn:{name}", changes=changes)


JOBS = [
    RunningJob(7, "train", 1000.0, ("head", "worker1")),
    RunningJob(8, "eval", 7000.0, ("head",)),
]


def test_replacing_a_node_warns_for_each_of_its_jobs() -> None:
    steps = [step("c-worker1", Action.REPLACE), step("c-head", Action.SAME)]
    assert jobs_at_risk(steps, "c", JOBS, 1000 + 2 * 3600 + 13 * 60) == (
        "worker1 runs job 7 (train, running 2h13m): this change replaces worker1 and kills it",
    )


def test_deleting_or_stopping_warns_and_other_updates_do_not() -> None:
    stop = PropertyChange("state", DiffKind.UPDATE, "running", "stopped")
    resize = PropertyChange("cpus", DiffKind.UPDATE, 1, 2)
    steps = [step("c-head", Action.UPDATE, stop), step("c-worker1", Action.DELETE)]
    warnings = jobs_at_risk(steps, "c", JOBS, 7090.0)
    assert warnings == (
        "head runs job 7 (train, running 1h41m): this change stops head and kills it",
        "head runs job 8 (eval, running 1m30s): this change stops head and kills it",
        "worker1 runs job 7 (train, running 1h41m): this change deletes worker1 and kills it",
    )
    assert jobs_at_risk([step("c-head", Action.UPDATE, resize)], "c", JOBS, 7090.0) == ()
    assert jobs_at_risk([step("other-head", Action.DELETE)], "c", JOBS, 7090.0) == ()


def test_stopping_an_aws_node_through_its_instance_state_warns_for_the_node() -> None:
    stop = PropertyChange("state", DiffKind.UPDATE, "running", "stopped")
    steps = [step("c-worker1-state", Action.UPDATE, stop)]
    assert jobs_at_risk(steps, "c", JOBS, 7090.0) == (
        "worker1 runs job 7 (train, running 1h41m): this change stops worker1 and kills it",
    )
