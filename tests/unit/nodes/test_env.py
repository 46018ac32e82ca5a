"""The environment a node's setup and job see: the task's envs, then SkyPilot's and Styx's."""

from __future__ import annotations

import pytest

from styx.errors import NodeError
from styx.nodes import ClusterAccess, setup_environment
from styx.nodes._env import check_names


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
