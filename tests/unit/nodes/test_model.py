"""Access parsed from stack outputs, and results that name the failing node and its last lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from styx.errors import NodeError
from styx.nodes import ClusterAccess, NodeSetupResult, PlaybookResult


def output(rank: int, **changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "head" if rank == 0 else f"worker{rank}",
        "rank": float(rank),  # the engine hands numbers back as floats
        "address": f"127.1.1.{rank + 2}",
        "port": 2222.0,
        "user": "u",
        "host_public_key": "ssh-ed25519 AAAA",
        "state": "running",
    }
    base.update(changes)
    return base


def test_from_outputs_sorts_by_rank_and_coerces_numbers() -> None:
    access = ClusterAccess.from_outputs("c", [output(1), output(0)], Path("/k"), Path("/s"))
    assert [n.name for n in access.nodes] == ["head", "worker1"]
    assert access.nodes[1].rank == 1 and isinstance(access.nodes[1].port, int)
    assert access.head.name == "head"
    assert access.node("worker1").address == "127.1.1.3"
    with pytest.raises(NodeError):
        access.node("nope")


def test_bad_outputs_are_node_errors() -> None:
    with pytest.raises(NodeError, match="lacks 'address'"):
        ClusterAccess.from_outputs(
            "c", [{k: v for k, v in output(0).items() if k != "address"}], Path("/k"), Path("/s")
        )
    with pytest.raises(NodeError, match="'port'"):
        ClusterAccess.from_outputs("c", [output(0, port="22")], Path("/k"), Path("/s"))
    with pytest.raises(NodeError, match=r"ranks must be 0\.\.n-1"):
        ClusterAccess.from_outputs("c", [output(0), output(2)], Path("/k"), Path("/s"))
    with pytest.raises(NodeError, match="no nodes"):
        ClusterAccess.from_outputs("c", [], Path("/k"), Path("/s"))


def test_local_cloud_exports_what_node_access_reads() -> None:
    # The keys styx.clouds.local exports per node are the ones NodeAccess.from_output needs.
    from styx.clouds.local.provider import NODE_OUTPUTS, LocalNode

    for key in ("name", "rank", "address", "port", "user", "host_public_key"):
        assert key in NODE_OUTPUTS
    # ... and the node resource keeps an attribute for each (styx/clouds/_sdk.py).
    assert set(NODE_OUTPUTS) == LocalNode.READ_BACK


def test_setup_result_failure_message() -> None:
    result = PlaybookResult(
        run_id="setup-1",
        digest="d",
        nodes=(
            NodeSetupResult("head", "unchanged"),
            NodeSetupResult(
                "worker1", "failed", "Run setup", "setup exited with code 2", None, ("x",)
            ),
        ),
        private_dir=Path("/r"),
    )
    assert not result.ok
    with pytest.raises(
        NodeError, match="setup failed on worker1 in task 'Run setup': setup exited"
    ):
        result.raise_for_failure()
    PlaybookResult("s", "d", (NodeSetupResult("head", "ran"),), Path("/r")).raise_for_failure()
