"""A two-node cluster's access data, as the stack's outputs would give it."""

from __future__ import annotations

from pathlib import Path

import pytest

from styx.nodes import ClusterAccess, NodeAccess


@pytest.fixture
def cluster() -> ClusterAccess:
    return ClusterAccess(
        cluster="demo",
        nodes=(
            NodeAccess(
                "head", 0, "127.9.8.2", 2222, "alice", "ssh-ed25519 AAAAhead styx-demo-head"
            ),
            NodeAccess("worker1", 1, "127.9.8.3", 2222, "alice", "ssh-ed25519 AAAAworker"),
        ),
        private_key_path=Path("/styx/local/demo/keys/id_ed25519"),
        state_dir=Path("/styx/stacks/proj/dev"),
    )
