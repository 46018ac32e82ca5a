"""The job client's data: what the agent answers reads back into typed jobs, and prints."""

from __future__ import annotations

from styx.cli.jobs import _table
from styx.jobs import Demand, Job, JobRequest

STOPPED = "stopped: the job failed on worker1"
RAW = {
    "id": 7,
    "name": "train",
    "user": "ana",
    "num_nodes": 2,
    "demand": {"cpus": 1.5, "accelerators": {"V100": 1.0}},
    "state": "FAILED",
    "reason": "run exited with code 3 on worker1",
    "task_id": "sky-2026-01-01-00-00-00_c_7",
    "submitted_at": 100.0,
    "started_at": 101.0,
    "ended_at": 161.0,
    "nodes": [
        {"node": "head", "rank": 0, "exit_code": 143, "error": STOPPED},
        {"node": "worker1", "rank": 1, "exit_code": 3, "error": None},
    ],
}


def test_a_job_reads_back_from_the_agents_json() -> None:
    job = Job.from_json(RAW)
    assert job.done and not job.ok
    assert job.demand == Demand(1.5, {"V100": 1.0})
    assert [n.exit_code for n in job.nodes] == [143, 3]
    assert job.to_json() == RAW


def test_a_request_carries_its_secrets_only_to_the_agent() -> None:
    request = JobRequest(run="echo", secrets={"TOKEN": "v"}, demand=Demand(None, {"A100": 8}))
    data = request.to_json()
    assert data["secrets"] == {"TOKEN": "v"}
    assert data["demand"] == {"cpus": None, "accelerators": {"A100": 8}}


def test_the_queue_table_shows_state_reason_and_exit_codes() -> None:
    text = _table("c", [Job.from_json(RAW)], exit_codes=True)
    lines = text.splitlines()
    assert lines[0] == "Cluster c"
    assert "ID" in lines[1] and "STATE" in lines[1]
    assert "train" in lines[2] and "1.5 CPU, V100:1" in lines[2]
    assert lines[2].endswith("FAILED (run exited with code 3 on worker1)")
    assert "1m00s" in lines[2]  # duration
    assert lines[4].split() == ["worker1", "rank", "1", "exit", "3"]
