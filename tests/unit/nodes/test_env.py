"""The environment a node's setup and job see: the task's envs, then SkyPilot's and Styx's."""

from __future__ import annotations

import json

import pytest

from styx.errors import NodeError
from styx.nodes import ClusterAccess, job_environment, setup_environment
from styx.nodes._env import check_names


def test_job_environment_matches_skypilot(cluster: ClusterAccess) -> None:
    env = job_environment(
        cluster, cluster.nodes[1], {"A": "1", "SKYPILOT_NODE_RANK": "x"}, "t-1", "job-7"
    )
    assert env["A"] == "1"
    assert env["SKYPILOT_NODE_RANK"] == "1"  # ours win over a task env of the same name
    assert env["SKYPILOT_NODE_IPS"] == "127.9.8.2\n127.9.8.3"
    assert env["SKYPILOT_NUM_NODES"] == "2"
    assert env["SKYPILOT_TASK_ID"] == "t-1"
    info = json.loads(env["SKYPILOT_CLUSTER_INFO"])
    assert info == {
        "cluster_name": "demo",
        "cloud": "local",
        "num_nodes": 2,
        "node_ips": ["127.9.8.2", "127.9.8.3"],
    }
    for name in ("NODE_RANK", "NODE_IPS", "NUM_NODES", "TASK_ID"):
        assert env[f"STYX_{name}"] == env[f"SKYPILOT_{name}"]
    assert (env["STYX_NODE_NAME"], env["STYX_JOB_ID"], env["STYX_CLUSTER_NAME"]) == (
        "worker1",
        "job-7",
        "demo",
    )


def test_setup_environment_uses_setup_names(cluster: ClusterAccess) -> None:
    env = setup_environment(cluster, cluster.nodes[0], {}, "t-1")
    assert env["SKYPILOT_SETUP_NODE_RANK"] == "0"
    assert env["SKYPILOT_SETUP_NODE_IPS"] == "127.9.8.2\n127.9.8.3"
    assert env["SKYPILOT_NUM_NODES"] == "2"
    assert "SKYPILOT_NODE_RANK" not in env
    assert env["STYX_NODE_RANK"] == "0"


def test_names_a_shell_cannot_export_are_refused() -> None:
    check_names(["OK", "_ok2"], "env")
    with pytest.raises(NodeError, match="env names must be shell variable names: 1BAD, A-B"):
        check_names(["A-B", "1BAD", "FINE"], "env")
