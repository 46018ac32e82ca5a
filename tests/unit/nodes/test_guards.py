"""What run_setup refuses before it starts any process."""

from __future__ import annotations

import dataclasses

import pytest

from styx.errors import CloudError, NodeError
from styx.nodes import ClusterAccess, NodeWork, run_setup


def test_local_setup_refuses_mounts_outside_the_node_home(cluster: ClusterAccess) -> None:
    work = NodeWork(task_id="t", file_mounts={"/etc/styx.conf": "/dev/null"})
    with pytest.raises(CloudError, match=r"/etc/styx\.conf"):
        run_setup(cluster, work, lambda e: None)


def test_bad_env_and_secret_names_are_refused(cluster: ClusterAccess) -> None:
    with pytest.raises(NodeError, match="env names"):
        run_setup(cluster, NodeWork(task_id="t", envs={"NOT-OK": "1"}), lambda e: None)
    with pytest.raises(NodeError, match="secret names"):
        run_setup(cluster, NodeWork(task_id="t", secrets={"1X": "s"}), lambda e: None)


def test_other_clouds_may_mount_anywhere(cluster: ClusterAccess) -> None:
    aws = dataclasses.replace(cluster, cloud="aws")
    work = NodeWork(task_id="t", envs={"BAD-NAME": "x"}, file_mounts={"/etc/x": "/dev/null"})
    # The mount passes for aws; the env name is what stops it, before anything runs.
    with pytest.raises(NodeError, match="env names"):
        run_setup(aws, work, lambda e: None)
