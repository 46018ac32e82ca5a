"""Node-level changes: which nodes run setup, from a diff of applied and new node fields."""

from __future__ import annotations

from typing import Any

from styx.plan import node_changes


def fields(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "setup": "pip install x",
        "run": "python train.py",
        "envs": {"A": "1"},
        "secrets": {"TOKEN": "digest1"},
        "file_mounts": {},
        "workdir": None,
    }
    return {**base, **overrides}


def test_first_apply_sets_up_every_node() -> None:
    changes, setup = node_changes(None, fields(), [], ["head", "worker1"])
    assert setup == ("head", "worker1")
    assert [c.field for c in changes] == ["nodes"]


def test_no_change_means_no_node_work() -> None:
    assert node_changes(fields(), fields(), ["head"], ["head"]) == ((), ())


def test_growing_the_cluster_sets_up_only_the_new_node() -> None:
    changes, setup = node_changes(fields(), fields(), ["head", "worker1"],
                                  ["head", "worker1", "worker2"])
    assert setup == ("worker2",)
    assert changes[0].summary == "1 new node: setup runs there"


def test_changed_setup_reruns_on_every_node() -> None:
    changes, setup = node_changes(fields(), fields(setup="pip install y"), ["head", "worker1"],
                                  ["head", "worker1"])
    assert setup == ("head", "worker1")
    assert changes[0].summary == "setup changed: setup re-runs on 2 nodes"


def test_env_and_secret_changes_name_the_keys_not_values() -> None:
    changes, _ = node_changes(
        fields(), fields(envs={"A": "2", "B": "x"}, secrets={"TOKEN": "digest2"}), ["head"],
        ["head"],
    )
    summaries = [c.summary for c in changes]
    assert summaries[0] == "envs: added B; changed A: setup re-runs on 1 node"
    assert summaries[1] == "secrets: changed TOKEN: setup re-runs on 1 node"
    assert "digest2" not in " ".join(summaries)


def test_run_change_does_not_rerun_setup() -> None:
    changes, setup = node_changes(fields(), fields(run="python eval.py"), ["head"], ["head"])
    assert setup == ()
    assert changes[0].field == "run" and not changes[0].reruns_setup
