"""Node-level changes: which nodes run setup, from a diff of applied and new node fields."""

from __future__ import annotations

from typing import Any

from styx.plan import NodeSetupState, node_changes


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


# The outcome record decides which nodes set up again; the fields only say what changed.

def test_a_failed_setup_re_runs_although_the_fields_match() -> None:
    states = {
        "head": NodeSetupState("d1"),
        "worker1": NodeSetupState("d0", "last attempt failed at version 3"),
    }
    changes, setup = node_changes(
        fields(), fields(), ["head", "worker1"], ["head", "worker1"], digest="d1",
        setup_states=states,
    )
    assert setup == ("worker1",)
    assert [c.summary for c in changes] == [
        "setup re-runs on worker1 (last attempt failed at version 3)"
    ]
    assert changes[0].reruns_setup


def test_nodes_set_up_with_the_current_inputs_have_nothing_to_do() -> None:
    states = {"head": NodeSetupState("d1"), "worker1": NodeSetupState("d1")}
    assert node_changes(fields(), fields(), ["head", "worker1"], ["head", "worker1"],
                        digest="d1", setup_states=states) == ((), ())  # fmt: skip


def test_changed_inputs_re_run_only_where_the_last_good_inputs_differ() -> None:
    states = {"head": NodeSetupState("d2"), "worker1": NodeSetupState("d1")}
    changes, setup = node_changes(
        fields(), fields(setup="pip install y"), ["head", "worker1"], ["head", "worker1"],
        digest="d2", setup_states=states,
    )
    assert setup == ("worker1",)
    assert [(c.summary, c.nodes) for c in changes] == [
        ("setup changed: setup re-runs on 1 node", ("worker1",))
    ]


def test_no_record_means_setup_runs_everywhere_and_says_why() -> None:
    changes, setup = node_changes(fields(), fields(), ["head"], ["head", "worker1"], digest="d1",
                                  setup_states=None)  # fmt: skip
    assert setup == ("head", "worker1")
    summaries = [c.summary for c in changes]
    assert "1 new node: setup runs there" in summaries
    assert "setup runs on head (no setup outcome recorded)" in summaries


def test_an_interrupted_first_apply_shows_every_node() -> None:
    states = {n: NodeSetupState(None, "last attempt was interrupted at version 1")
              for n in ("head", "worker1")}  # fmt: skip
    changes, setup = node_changes(None, fields(), ["head", "worker1"], ["head", "worker1"],
                                  digest="d1", setup_states=states)  # fmt: skip
    assert setup == ("head", "worker1")
    assert changes[-1].summary == (
        "setup re-runs on head, worker1 (last attempt was interrupted at version 1)"
    )


def test_a_first_apply_lists_the_buckets_each_node_gets() -> None:
    storage = {"~/data": "s3://team/train COPY", "/ckpt": "s3://ckpt MOUNT"}
    changes, setup = node_changes(None, fields(storage=storage), [], ["head", "worker1"])
    assert setup == ("head", "worker1")
    (listed,) = [c for c in changes if c.field == "storage"]
    assert listed.summary == "buckets: /ckpt <- s3://ckpt MOUNT; ~/data <- s3://team/train COPY"
    assert listed.nodes == ("head", "worker1") and not listed.reruns_setup
    # Once applied, buckets show only when they change, and then setup runs again.
    assert node_changes(fields(storage=storage), fields(storage=storage), ["head"],
                        ["head"]) == ((), ())
    changes, setup = node_changes(fields(storage=storage),
                                  fields(storage={"~/data": "s3://team/eval COPY"}),
                                  ["head"], ["head"])
    assert setup == ("head",)
    assert changes[0].summary == "storage: removed /ckpt; changed ~/data: setup re-runs on 1 node"
