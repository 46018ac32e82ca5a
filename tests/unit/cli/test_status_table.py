"""`styx status`'s table and JSON, from status data built by hand (no engine, no nodes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from styx.cli.status import render_status
from styx.workflow import ClusterResources, ClusterStatus, ClusterStatusJSON, NodeStatus

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def _node(name: str, rank: int, *, reachable: bool = True, setup: str = "ok") -> NodeStatus:
    return NodeStatus(name, rank, f"127.0.0.{rank + 2}", 2222, "running", reachable,
                      setup=setup)  # fmt: skip


def _cluster(name: str, nodes: tuple[NodeStatus, ...], **fields: object) -> ClusterStatus:
    defaults: dict[str, object] = {
        "autostop": None, "last_update": NOW, "update_in_progress": False,
        "resources": ClusterResources(len(nodes), cpus=2, memory_gb=4) if nodes else None,
        "launched_at": NOW - timedelta(hours=3, minutes=5) if nodes else None,
        "hourly_cost": 0.0 if nodes else None,
    }  # fmt: skip
    defaults.update(fields)
    return ClusterStatus(name, "local", nodes, **defaults)  # type: ignore[arg-type]


def test_states_follow_the_nodes_and_their_setup() -> None:
    head, worker = _node("head", 0), _node("worker1", 1)
    assert _cluster("a", (head, worker)).state == "UP"
    assert _cluster("a", (head, _node("worker1", 1, setup="started"))).state == "INIT"
    assert _cluster("a", (head, _node("worker1", 1, setup="failed"))).state == "INIT"
    assert _cluster("a", (head, _node("worker1", 1, setup="never"))).state == "INIT"
    assert _cluster("a", (head, _node("worker1", 1, reachable=False))).state == "DEGRADED"
    down = (_node("head", 0, reachable=False), _node("worker1", 1, reachable=False))
    assert _cluster("a", down).state == "STOPPED"
    assert _cluster("a", ()).state == "DOWN"
    assert _cluster("a", (), problem="bad checkpoint").state == "BROKEN"
    # Clusters recorded before outcome records existed are not INIT for lack of one.
    assert _cluster("a", (_node("head", 0, setup="unknown"),)).state == "UP"


def test_cost_now_follows_the_state() -> None:
    up = _cluster("a", (_node("head", 0),), hourly_cost=3.06)
    assert up.cost_per_hour_now == 3.06
    stopped = _cluster("a", (_node("head", 0, reachable=False),), hourly_cost=3.06)
    assert stopped.cost_per_hour_now is None  # disks only: the cloud's to say
    assert _cluster("a", ()).cost_per_hour_now == 0.0


def test_resources_read_as_nodes_times_what_each_is() -> None:
    assert str(ClusterResources(2, instance_type="m6i.large")) == "2x m6i.large"
    assert str(ClusterResources(4, instance_type="p3.8xlarge", accelerators="V100:4",
                                use_spot=True)) == "4x p3.8xlarge (V100:4) [spot]"
    assert str(ClusterResources(1, cpus=0.5, memory_gb=2)) == "1x (cpus=0.5, mem=2G)"
    assert str(ClusterResources(3)) == "3x (host's)"


def test_columns_fit_the_widest_value() -> None:
    long = "a-cluster-with-a-very-long-name"
    clusters = [
        _cluster("x", (_node("head", 0),), autostop={"idle_minutes": 10, "down": True},
                 jobs_running=1, jobs_pending=12),
        _cluster(long, (_node("head", 0), _node("worker1", 1, reachable=False)),
                 region="us-east-1", hourly_cost=12.5),
    ]
    text = render_status(clusters, now=NOW)
    lines = text.splitlines()
    header = lines[0]
    rows = [line for line in lines[1:] if not line.startswith(" ")]
    assert header.split() == ["CLUSTER", "INFRA", "RESOURCES", "STATE", "LAUNCHED", "AUTOSTOP",
                              "JOBS", "$/HOUR"]  # fmt: skip
    # The INFRA column starts two spaces after the longest cluster name.
    assert header.index("INFRA") == len(long) + 2
    for row in rows:
        for column, value in (("STATE", ("UP", "DEGRADED")), ("$/HOUR", ("$0.00", "$12.50"))):
            assert any(row[header.index(column):].startswith(v) for v in value), (column, row)
    assert "10m idle, down" in rows[0] and "1 run, 12 wait" in rows[0]
    assert "local/us-east-1" in rows[1] and "DEGRADED" in rows[1] and "3h 5m ago" in rows[1]
    assert "worker1  rank 1  127.0.0.3:2222  not answering" in text


def test_setup_and_notes_show_under_the_cluster() -> None:
    c = _cluster("a", (_node("head", 0, setup="failed"),), notes=("head: no answer",))
    text = render_status([c], now=NOW)
    assert "INIT" in text and "setup failed" in text and "note: head: no answer" in text


def test_json_has_exactly_the_documented_shape() -> None:
    c = _cluster("a", (_node("head", 0),), region="us-east-1", hourly_cost=1.5,
                 autostop={"idle_minutes": 5, "down": False}, jobs_running=0, jobs_pending=2)
    data = c.to_json()
    assert set(data) == set(ClusterStatusJSON.__annotations__)
    assert data["state"] == "UP" and data["cost_per_hour_now"] == 1.5
    assert data["launched_at"] == "2026-01-02T08:55:00+00:00"
    assert data["resources"] == "1x (cpus=2, mem=4G)" and data["cpus"] == 2
    assert data["nodes"][0] == {"name": "head", "rank": 0, "address": "127.0.0.2",
                                "port": 2222, "reachable": True, "setup": "ok", "ports": []}
    json.dumps(data)  # JSON-safe as it is
