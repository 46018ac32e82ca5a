"""The retention policy on a real folder tree: what the sweep lists is what it removes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from styx.errors import StyxError
from styx.retention import (
    RetentionPolicy,
    engine_log_settings,
    engine_logs_dir,
    hold_run,
    mark_down,
    mark_failed,
    plan_sweep,
    release_run,
    remove,
    run_is_active,
    sweep,
)

DAY = 86400.0


def touch(path: Path, age_days: float = 0.0, data: bytes = b"x" * 100) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = time.time() - age_days * DAY
    os.utime(path, (stamp, stamp))
    return path


def age(path: Path, days: float) -> None:
    stamp = time.time() - days * DAY
    os.utime(path, (stamp, stamp))


def run_folder(stack: Path, name: str, days: float, *, failed: bool = True) -> Path:
    run = stack / "runs" / name
    touch(run / "artifacts" / "stdout", days)
    release_run(hold_run(run))
    if failed:
        mark_failed(run)
    for path in (run / ".styx-active", run / ".styx-failed", run):
        if path.exists():
            age(path, days)
    return run


def test_policy_from_the_environment() -> None:
    assert RetentionPolicy.from_env({}) == RetentionPolicy(False, 50, 5, 7.0, 10)
    policy = RetentionPolicy.from_env(
        {"STYX_DEBUG": "1", "STYX_KEEP_FAILED_RUNS": "0", "STYX_KEEP_LOGS_DAYS": "0.5"}
    )
    assert policy == RetentionPolicy(True, 50, 0, 0.5, 10)
    assert not RetentionPolicy.from_env({"STYX_DEBUG": "0"}).engine_logs
    with pytest.raises(StyxError, match="STYX_KEEP_FAILED_RUNS='many' must be a whole number"):
        RetentionPolicy.from_env({"STYX_KEEP_FAILED_RUNS": "many"})
    with pytest.raises(StyxError, match="STYX_KEEP_LOGS_DAYS='-1'"):
        RetentionPolicy.from_env({"STYX_KEEP_LOGS_DAYS": "-1"})


def test_engine_logs_off_puts_a_file_where_the_engine_wants_its_folder(tmp_path: Path) -> None:
    logs = engine_logs_dir(tmp_path)
    touch(logs / "pulumi-20260101T000000-1-preview.log")
    assert engine_log_settings(RetentionPolicy(engine_logs=False), tmp_path) == {}
    assert logs.is_file() and logs.stat().st_mode & 0o777 == 0o600
    assert "STYX_DEBUG" in logs.read_text()
    on = engine_log_settings(RetentionPolicy(engine_logs=True, engine_log_mb=3), tmp_path)
    assert on == {"PULUMI_LOG_ROTATION_MAX_TOTAL_MB": "3", "PULUMI_LOG_ROTATION_MAX_AGE_DAYS": "7"}
    assert not logs.exists()  # the engine makes its folder again


def test_engine_logs_left_from_a_debug_session_are_swept(tmp_path: Path) -> None:
    logs = engine_logs_dir(tmp_path)
    old = [touch(logs / f"pulumi-2026010{i}T000000-1-up.log") for i in range(3)]
    assert plan_sweep(RetentionPolicy(engine_logs=True), tmp_path) == []
    listed = plan_sweep(RetentionPolicy(engine_logs=False), tmp_path)
    assert sorted(r.path for r in listed) == sorted(old)
    assert sum(r.size for r in listed) == 300


def test_failed_runs_are_kept_the_newest_few_and_a_live_run_never(tmp_path: Path) -> None:
    stack = tmp_path / "stacks" / "styx" / "dev"
    failed = [run_folder(stack, f"job-{i}", days=10 - i) for i in range(4)]
    interrupted = run_folder(stack, "setup-died", days=0.5, failed=False)  # no end recorded
    live = stack / "runs" / "job-live"
    touch(live / "inventory.yml", 30)
    held = hold_run(live)
    age(live, 30)
    try:
        assert run_is_active(live)
        listed = plan_sweep(RetentionPolicy(failed_runs=2), tmp_path)
        assert [r.path for r in listed] == failed[:3]
        assert all(r.reason.startswith("failed run folder") for r in listed)
        removed = sweep(RetentionPolicy(failed_runs=2), tmp_path)
        assert removed == listed
        assert sorted(p.name for p in (stack / "runs").iterdir()) == [
            "job-3", "job-live", "setup-died",
        ]  # fmt: skip
        assert interrupted.exists()
    finally:
        release_run(held)
    assert not run_is_active(live)


def test_logs_of_a_live_cluster_are_never_removed(tmp_path: Path) -> None:
    stack = tmp_path / "stacks" / "styx" / "live"
    touch(stack / "styx.lock", 400)
    touch(stack / "logs" / "job-old" / "head.log", 400)
    assert plan_sweep(RetentionPolicy(log_days=0), tmp_path) == []


def test_logs_go_a_set_time_after_down(tmp_path: Path) -> None:
    stack = tmp_path / "stacks" / "styx" / "gone"
    touch(stack / "styx.lock", 10)
    log = touch(stack / "logs" / "job-1" / "head.log", 10)
    age(log.parent, 10)
    digest = touch(stack / "setup" / "head.digest", 10)
    failed = run_folder(stack, "setup-1", days=10)
    mark_down(stack)
    age(stack / "down", 3)
    policy = RetentionPolicy(log_days=7)
    assert plan_sweep(policy, tmp_path) == []  # down for 3 days of 7
    age(stack / "down", 8)
    listed = plan_sweep(policy, tmp_path)
    assert sorted(r.path for r in listed) == sorted([log.parent, digest, failed])
    assert all("down since" in r.reason for r in listed)
    assert remove(listed) == sum(r.size for r in listed) > 0
    assert not log.exists() and not digest.exists() and not failed.exists()
    assert (stack / "down").exists() and (stack / "styx.lock").exists()


def test_a_cluster_applied_again_after_down_is_live(tmp_path: Path) -> None:
    stack = tmp_path / "stacks" / "styx" / "back"
    log = touch(stack / "logs" / "job-1" / "head.log", 30)
    age(log.parent, 30)
    touch(stack / "styx.lock", 20)
    mark_down(stack)
    age(stack / "down", 20)
    touch(stack / "styx.lock", 1)  # an apply since the down
    assert plan_sweep(RetentionPolicy(log_days=7), tmp_path) == []
    age(stack / "styx.lock", 9)  # down again (it takes the lock), 8 days ago: the clock restarts
    mark_down(stack)
    age(stack / "down", 8)
    assert [r.path for r in plan_sweep(RetentionPolicy(log_days=7), tmp_path)] == [log.parent]


def test_state_backups_keep_the_newest_and_history_is_never_touched(tmp_path: Path) -> None:
    pulumi = tmp_path / "state" / ".pulumi"
    backups = [touch(pulumi / "backups" / "styx" / "dev" / f"dev.{i}.json", 10 - i)
               for i in range(5)]  # fmt: skip
    history = [touch(pulumi / "history" / "styx" / "dev" / f"dev-{i}.checkpoint.json", 100)
               for i in range(5)]  # fmt: skip
    listed = plan_sweep(RetentionPolicy(state_backups=2), tmp_path)
    assert [r.path for r in listed] == backups[:3]
    sweep(RetentionPolicy(state_backups=2), tmp_path)
    assert all(p.exists() for p in history) and all(p.exists() for p in backups[3:])
