"""The agent's scheduler and SQLite queue, driven directly: pure, no SSH, no daemon."""

from __future__ import annotations

import ast
import json
import socket
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from styx.agent import AGENT_FILE
from styx.agent import agent as ag

NODES = [
    {"name": "head", "address": "127.0.0.1", "ip": "10.0.0.1", "user": "u", "cpus": 2},
    {"name": "worker1", "address": "127.0.0.2", "ip": "10.0.0.2", "user": "u", "cpus": 2},
]
CONFIG: dict[str, Any] = {"cluster": "c1", "cloud": "local", "region": None, "nodes": NODES}


def demand(cpus: float | None = None, **acc: float) -> dict[str, Any]:
    return ag.normalise_demand({"cpus": cpus, "accelerators": acc})


def test_the_agent_parses_as_python_3_8() -> None:
    ast.parse(AGENT_FILE.read_text(), feature_version=(3, 8))


def test_a_job_naming_no_cpus_takes_half_a_cpu_as_in_skypilot() -> None:
    assert demand() == {"cpus": 0.5, "accelerators": {}}


def test_fifo_each_job_that_fits_starts_later_ones_wait() -> None:
    big = demand(1.5)
    pending = [(1, 2, big), (2, 2, big), (3, 2, big), (4, 1, demand(0.5))]
    started = ag.schedule(NODES, [], pending)
    # Job 1 takes 1.5 of 2 CPUs on both nodes; 2 and 3 wait; 4 fits beside job 1 on the head.
    assert started == [(1, ["head", "worker1"]), (4, ["head"])]
    running = [(big, ["head", "worker1"]), (demand(0.5), ["head"])]
    assert ag.schedule(NODES, running, [(2, 2, big), (3, 2, big)]) == []
    assert ag.schedule(NODES, [], [(2, 2, big), (3, 2, big)]) == [(2, ["head", "worker1"])]


def test_nodes_are_taken_in_rank_order_and_skipped_when_full() -> None:
    running = [(demand(2), ["head"])]
    assert ag.schedule(NODES, running, [(7, 1, demand(1))]) == [(7, ["worker1"])]


def test_accelerators_are_counted_per_node() -> None:
    nodes = [dict(n, accelerators={"V100": 2}) for n in NODES]
    one, two = demand(None, V100=1), demand(None, V100=2)
    pending = [(1, 1, two), (2, 1, one), (3, 1, one)]
    assert ag.schedule(nodes, [], pending) == [(1, ["head"]), (2, ["worker1"]), (3, ["worker1"])]
    assert ag.schedule(NODES, [], [(1, 1, demand(None, V100=1))]) == []


@pytest.fixture
def db(tmp_path: Path) -> sqlite3.Connection:
    return ag.connect(str(tmp_path / "jobs.db"))


def submit(db: sqlite3.Connection, **request: Any) -> int:
    request.setdefault("run", "echo hi")
    return ag.submit_job(db, CONFIG, request, 100.0)


def test_submit_refuses_what_the_cluster_could_never_run(db: sqlite3.Connection) -> None:
    with pytest.raises(ag.AgentError, match="asks for 3 node"):
        submit(db, num_nodes=3)
    with pytest.raises(ag.AgentError, match="exceeds"):
        submit(db, demand={"cpus": 4})
    with pytest.raises(ag.AgentError, match="no run command"):
        submit(db, run=" ")


def test_queue_moves_pending_to_running_to_a_terminal_state(db: sqlite3.Connection) -> None:
    first = submit(db, name="a", demand={"cpus": 2}, num_nodes=2)
    second = submit(db, name="b", demand={"cpus": 2}, num_nodes=2, setup="true")
    assert ag.schedule_step(db, CONFIG, 101.0) == [(first, ["head", "worker1"])]
    assert ag.schedule_step(db, CONFIG, 101.5) == []
    row = ag.get_job(db, first)
    assert row["state"] == "RUNNING" and row["started_at"] == 101.0
    assert row["task_id"] == f"sky-1970-01-01-00-01-40_c1_{first}"
    assert ag.finish_job(db, first, "SUCCEEDED", None, 105.0)
    # A terminal state is final: a late supervisor cannot turn CANCELLED into FAILED.
    assert not ag.finish_job(db, first, "FAILED", "late", 106.0)
    assert ag.schedule_step(db, CONFIG, 107.0) == [(second, ["head", "worker1"])]
    assert ag.get_job(db, second)["state"] == "SETTING_UP"
    record = ag.job_record(db, ag.get_job(db, first))
    assert record["state"] == "SUCCEEDED"
    assert [n["node"] for n in record["nodes"]] == ["head", "worker1"]
    activity = {r["key"]: r["value"] for r in db.execute("SELECT * FROM activity")}
    assert activity["last_job_end"] == 105.0 and activity["last_submit"] == 100.0


def test_secrets_go_to_the_daemons_memory_never_to_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    db = ag.connect(str(tmp_path / "jobs.db"))
    with pytest.raises(ag.AgentError, match="did not take the job's secrets"):
        submit(db, secrets={"TOKEN": "s3cr3t"})  # no daemon listening
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(ag._secrets_address())
    server.listen(1)
    vault: dict[str, dict[str, str]] = {}
    taker = threading.Thread(target=ag._take_secrets, args=(server, vault))
    taker.start()
    job = submit(db, secrets={"TOKEN": "s3cr3t"})
    taker.join()
    server.close()
    token = ag.get_job(db, job)["secrets_token"]
    assert vault == {token: {"TOKEN": "s3cr3t"}}
    db.close()
    for path in tmp_path.rglob("jobs.db*"):
        assert b"s3cr3t" not in path.read_bytes()
    db = ag.connect(str(tmp_path / "jobs.db"))
    # The job waits for its secrets; with them it starts; lost ones fail it after a while.
    assert ag.schedule_step(db, CONFIG, 100.5, held=set()) == []
    assert ag.get_job(db, job)["state"] == "PENDING"
    assert ag.schedule_step(db, CONFIG, 200.0, held=set()) == []
    assert ag.get_job(db, job)["state"] == "FAILED"
    assert "secrets were lost" in ag.get_job(db, job)["reason"]


def test_concurrent_submits_get_distinct_ids(tmp_path: Path) -> None:
    path = str(tmp_path / "jobs.db")
    ag.connect(path)
    ids: list[int] = []

    def worker() -> None:
        db = ag.connect(path)
        for _ in range(20):
            ids.append(ag.submit_job(db, CONFIG, {"run": "true"}, 1.0))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(ids) == list(range(1, 81))


def test_job_environment_is_skypilots_with_styx_twins() -> None:
    job = {"id": 7, "name": "train", "task_id": "sky-x_c1_7", "demand": demand(None, V100=1.5)}
    env = ag.job_environment(CONFIG, job, ["worker1", "head"], 1, "run")
    assert env["SKYPILOT_NODE_RANK"] == "1"
    assert env["SKYPILOT_NODE_IPS"] == "10.0.0.2\n10.0.0.1"
    assert env["SKYPILOT_NUM_NODES"] == "2"
    assert env["SKYPILOT_NUM_GPUS_PER_NODE"] == "2"  # rounded up, as SkyPilot does
    assert env["SKYPILOT_TASK_ID"] == "sky-x_c1_7"
    assert json.loads(env["SKYPILOT_CLUSTER_INFO"])["cluster_name"] == "c1"
    for key, value in env.items():
        if key.startswith("SKYPILOT_"):
            assert env["STYX_" + key[len("SKYPILOT_") :]] == value
    assert env["STYX_NODE_NAME"] == "head" and env["STYX_JOB_ID"] == "7"
    assert "SKYPILOT_SETUP_NODE_RANK" not in env
    setup = ag.job_environment(CONFIG, job, ["worker1", "head"], 0, "setup")
    assert setup["SKYPILOT_SETUP_NODE_RANK"] == "0"


def test_read_logs_returns_whole_lines_until_the_job_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = tmp_path / ".styx-agent" / "logs" / "3"
    folder.mkdir(parents=True)
    (folder / "head.log").write_bytes(b"one\ntwo\npart")
    (folder / "head.run.err").write_bytes(b"STYX-AGENT-EXIT 0\n")
    got = ag.read_logs(3, {}, None, complete=False)
    assert got == {"head": {"text": "one\ntwo\n", "offset": 8, "more": False}}
    got = ag.read_logs(3, {"head": 8}, None, complete=True)
    assert got == {"head": {"text": "part", "offset": 12, "more": False}}


def test_read_logs_says_when_a_chunk_stopped_short_of_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "more" lets a reader of an ended job stop after one call when nothing was cut off.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(ag, "_LOG_CHUNK", 4)
    folder = tmp_path / ".styx-agent" / "logs" / "3"
    folder.mkdir(parents=True)
    (folder / "head.log").write_bytes(b"abcdefg")
    first = ag.read_logs(3, {}, None, complete=True)
    assert first == {"head": {"text": "abcd", "offset": 4, "more": True}}
    second = ag.read_logs(3, {"head": 4}, None, complete=True)
    assert second == {"head": {"text": "efg", "offset": 7, "more": False}}


def test_exit_codes_come_from_the_launcher_and_a_lost_node_says_why(tmp_path: Path) -> None:
    err = tmp_path / "e"
    err.write_text("STYX-AGENT-EXIT 3\n")
    assert ag._exit_of(str(err)) == (3, None)
    err.write_text("Connection to 10.0.0.2 closed by remote host.\n")
    lost = "node lost: Connection to 10.0.0.2 closed by remote host."
    assert ag._exit_of(str(err)) == (None, lost)


def test_secrets_are_masked_in_output() -> None:
    assert ag._mask(b"token=abc123 ok\n", [b"abc123"]) == b"token=[secret] ok\n"


def test_submit_expecting_a_daemon_version_queues_nothing_when_it_is_not_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The client's version check rides on the submit (one SSH round trip): no daemon, or
    # one started from another file, answers "outdated" and queues nothing, config or not.
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO('{"run": "echo hi"}'))
    assert ag.main(["submit", "--expect-daemon", "f" * 64, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert answer == {"outdated": True, "running": False, "daemon_sha256": None}
    assert not (tmp_path / ag.DIR_NAME / "jobs.db").exists()
