"""The agent's autostop: when a cluster is idle, and what the daemon does once it is due.

Pure parts (the verdict, the SSH session count) on plain values; the daemon's step on a real
SQLite queue, with the node probe (SSH to every node) replaced at its seam.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from styx.agent import agent as ag
from styx.workflow._autostop import (
    autostop_meaning,
    clear_record,
    describe_autostop,
    read_record,
    record_path,
)

NODES = [
    {"name": "head", "address": "127.0.9.2", "ip": "127.0.9.2", "user": "u", "port": 2222},
    {"name": "worker1", "address": "127.0.9.3", "ip": "127.0.9.3", "user": "u", "port": 2222},
]
STOP = {"idle_minutes": 1, "down": False, "wait_for": "jobs"}


def verdict(autostop: dict[str, Any] | None, clocks: dict[str, float], now: float,
            jobs: int = 0, sessions: int = 0) -> str:
    return ag.idle_verdict(autostop, clocks, jobs, sessions, now, 10.0)[0]


def test_no_autostop_is_off() -> None:
    assert verdict(None, {}, 100.0) == "off"


def test_idle_time_counts_from_the_latest_activity() -> None:
    clocks = {"daemon_started": 0.0, "last_job_end": 50.0, "last_submit": 40.0}
    assert verdict(STOP, clocks, 59.0) == "waiting"  # a minute is 10 s here
    assert verdict(STOP, clocks, 60.0) == "due"
    assert verdict(STOP, {**clocks, "setup_ended": 55.0}, 60.0) == "waiting"
    assert verdict(STOP, {**clocks, "configured_at": 58.0}, 60.0) == "waiting"


def test_a_pending_or_running_job_keeps_the_cluster_up() -> None:
    assert verdict(STOP, {"daemon_started": 0.0}, 1000.0, jobs=1) == "busy"


def test_ssh_sessions_count_only_with_jobs_and_ssh() -> None:
    clocks = {"daemon_started": 0.0}
    assert verdict(STOP, clocks, 1000.0, sessions=2) == "due"
    with_ssh = {**STOP, "wait_for": "jobs_and_ssh"}
    assert verdict(with_ssh, clocks, 1000.0, sessions=2) == "busy"
    assert verdict(with_ssh, clocks, 1000.0) == "due"


def test_wait_for_none_is_a_hard_limit_from_when_autostop_was_set() -> None:
    hard = {**STOP, "wait_for": "none"}
    clocks = {"daemon_started": 0.0, "configured_at": 100.0, "last_busy": 500.0}
    assert verdict(hard, clocks, 109.0, jobs=3) == "waiting"
    assert verdict(hard, clocks, 110.0, jobs=3) == "due"


PTS0, PTS1, TTY1 = (136 << 8) | 0, (136 << 8) | 1, (4 << 8) | 1


def test_ssh_sessions_are_terminals_under_sshd() -> None:
    """Interactive sessions only: Styx's calls, Ansible and the agent's own SSH have no terminal."""
    table = {
        1: (0, "init", 0),
        10: (1, "sshd", 0),  # the server
        11: (10, "sshd", 0),  # a session's privileged half
        12: (11, "sshd", PTS0),  # ... and its terminal
        13: (12, "bash", PTS0),  # a user's shell: counts (once per terminal)
        14: (13, "vim", PTS0),
        20: (11, "bash", 0),  # `ssh node cmd` without a terminal: no session
        30: (1, "tmux: server", PTS1),  # a terminal not under sshd
        40: (1, "getty", TTY1),
    }
    assert ag.ssh_sessions(table, lambda _pid: True) == 1
    # Where nodes share a host, another node's sessions are not this one's.
    assert ag.ssh_sessions(table, lambda pid: pid not in (12, 13, 14)) == 0


# ---------------------------------------------------------------------------------------------
# The daemon's step, on a real queue


@pytest.fixture
def db(tmp_path: Path) -> sqlite3.Connection:
    return ag.connect(str(tmp_path / "jobs.db"))


def _config(tmp_path: Path, **autostop: Any) -> dict[str, Any]:
    done = tmp_path / "fired.json"
    script = ("import json, sys; open(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))")
    return {
        "cluster": "c1", "nodes": NODES, "seconds_per_minute": 0.2,
        "autostop": {**STOP, **autostop},
        "autostop_action": {"argv": [sys.executable, "-c", script, str(done)],
                            "details": True},
    }


def _fired(tmp_path: Path, stopper: ag.Autostopper) -> list[str] | None:
    if stopper.action is not None:
        stopper.action.wait(timeout=30)
    path = tmp_path / "fired.json"
    return list(json.loads(path.read_text())) if path.exists() else None


@pytest.fixture
def no_setup(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, float]]:
    """The node probe's answers, in order (no SSH in unit tests); idle nodes by default."""
    answers: list[tuple[bool, float]] = []
    monkeypatch.setattr(ag, "setup_activity",
                        lambda _config: answers.pop(0) if answers else (False, 0.0))
    return answers


def _submit(db: sqlite3.Connection, state: str) -> int:
    with ag.Tx(db):
        cursor = db.execute(
            "INSERT INTO jobs (name, user, num_nodes, demand, run, envs, cwd, state, "
            "submitted_at) VALUES ('j', 'u', 1, '{}', 'true', '{}', '', ?, ?)",
            (state, time.time()),
        )
    return int(cursor.lastrowid or 0)


def test_the_daemon_stops_an_idle_cluster_with_its_details(
    tmp_path: Path, db: sqlite3.Connection, no_setup: list[tuple[bool, float]]
) -> None:
    config = _config(tmp_path, down=True)
    now = time.time()
    with ag.Tx(db):
        ag.touch(db, "daemon_started", now)
    stopper = ag.Autostopper()
    assert stopper.step(db, config, now + 0.1) == "waiting"
    assert _fired(tmp_path, stopper) is None
    assert stopper.step(db, config, now + 0.3) == "fired"
    argv = _fired(tmp_path, stopper)
    assert argv is not None and argv[:2] == ["--at", repr(now + 0.3)]
    assert argv[2:4] == ["--idle-minutes", "1"] and argv[-1] == "--down"
    assert stopper.step(db, config, now + 10) == "fired"  # once


def test_a_running_job_keeps_it_up_even_after_an_agent_restart(
    tmp_path: Path, db: sqlite3.Connection, no_setup: list[tuple[bool, float]]
) -> None:
    """kill -9 of the agent loses its memory, not the queue: the job still counts."""
    config = _config(tmp_path)
    job = _submit(db, "RUNNING")
    now = time.time()
    with ag.Tx(db):
        ag.touch(db, "daemon_started", now - 3600)
    restarted = ag.Autostopper()
    assert restarted.step(db, config, now) == "busy"
    assert _fired(tmp_path, restarted) is None
    ag.finish_job(db, job, "SUCCEEDED", None, now + 1)
    assert restarted.step(db, config, now + 1.1) == "waiting"  # counted from the job's end
    assert restarted.step(db, config, now + 1.3) == "fired"


def test_a_setup_running_on_a_node_keeps_it_up(
    tmp_path: Path, db: sqlite3.Connection, no_setup: list[tuple[bool, float]]
) -> None:
    config = _config(tmp_path)
    now = time.time()
    with ag.Tx(db):
        ag.touch(db, "daemon_started", now - 3600)
    stopper = ag.Autostopper()
    no_setup.append((True, 0.0))  # setup runs on a node
    assert stopper.step(db, config, now) == "busy"
    no_setup.append((False, now + 0.5))  # it ended; idle time counts from its end
    assert stopper.step(db, config, now + 0.3) == "busy"
    assert stopper.step(db, config, now + 0.6) == "waiting"
    assert stopper.step(db, config, now + 0.8) == "fired"
    assert _fired(tmp_path, stopper) is not None


def test_a_failed_action_counts_the_idle_time_again(
    tmp_path: Path, db: sqlite3.Connection, no_setup: list[tuple[bool, float]]
) -> None:
    config = _config(tmp_path)
    config["autostop_action"] = {"argv": [sys.executable, "-c", "raise SystemExit(3)"]}
    now = time.time()
    with ag.Tx(db):
        ag.touch(db, "daemon_started", now - 3600)
    stopper = ag.Autostopper()
    assert stopper.step(db, config, now) == "fired"
    assert stopper.action is not None
    stopper.action.wait(timeout=30)
    assert stopper.step(db, config, now + 0.01) == "failed"
    assert stopper.step(db, config, now + 0.1) == "waiting"


def test_the_agent_fills_in_its_own_paths(tmp_path: Path, db: sqlite3.Connection,
                                          no_setup: list[tuple[bool, float]]) -> None:
    config = _config(tmp_path)
    out = tmp_path / "argv.json"
    config["autostop_action"] = {"argv": ["{python}", "-c", "import json, sys; open(sys.argv[1], "
                                          "'w').write(json.dumps(sys.argv[2:]))", str(out),
                                          "{agent}"]}  # fmt: skip
    with ag.Tx(db):
        ag.touch(db, "daemon_started", time.time() - 3600)
    stopper = ag.Autostopper()
    assert stopper.step(db, config, time.time()) == "fired"
    assert stopper.action is not None and stopper.action.wait(timeout=30) == 0
    assert json.loads(out.read_text()) == [str(Path(ag.__file__).resolve())]


# ---------------------------------------------------------------------------------------------
# What Styx reads afterwards, and says in plans


def test_the_local_action_records_what_it_did(tmp_path: Path) -> None:
    from styx.clouds.local._autostop import main

    cluster_dir, state_dir = tmp_path / "local" / "c1", tmp_path / "stacks" / "c1"
    (cluster_dir / "head").mkdir(parents=True)
    assert main(["--cluster-dir", str(cluster_dir), "--record", str(record_path(state_dir)),
                 "--nodes", "head,worker1", "--at", "1700000000.5", "--idle-minutes", "1",
                 "--idle-for", "1.02", "--foreground"]) == 0  # fmt: skip
    record = read_record(state_dir)
    assert record is not None and record.action == "stop"
    assert record.describe() == "autostopped at 2023-11-14 22:13:20 UTC after 1 idle min"
    assert (cluster_dir / "head").is_dir()  # folders kept: `styx start` resumes them
    clear_record(state_dir)
    assert read_record(state_dir) is None


def test_autostop_in_words_with_its_cost_meaning() -> None:
    assert describe_autostop(None) == "none"
    assert describe_autostop({"idle_minutes": 10, "down": False}) == "10m idle, stop"
    jobs_only = {"idle_minutes": 120, "down": True, "wait_for": "jobs"}
    assert describe_autostop(jobs_only) == "2h idle, down (wait_for jobs)"
    assert (autostop_meaning({"idle_minutes": 10}, 3.06) == "a $3.06/h cluster stops costing "
            "compute 10m after its last job and SSH session")
    assert (autostop_meaning(jobs_only, 3.06)
            == "a $3.06/h cluster is torn down 2h after its last job")
