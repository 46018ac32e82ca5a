"""How long Styx keeps what it writes under STYX_HOME, and the sweep that enforces it.

The policy (README, "Files under STYX_HOME"):

- engine logs (`pulumi/logs`): Pulumi writes a debug log for every engine command. Off unless
  STYX_DEBUG is set; then the engine itself keeps them up to STYX_ENGINE_LOG_MB megabytes and
  7 days. With STYX_DEBUG unset, any left over are removed.
- ansible run folders (`stacks/<project>/<stack>/runs/<run>`): removed as soon as a run ends
  well; a failed or interrupted run's folder is kept, the newest STYX_KEEP_FAILED_RUNS per
  stack. A run still going on is never touched.
- job and setup logs (`stacks/<project>/<stack>/logs/<run>`) and setup records: kept while the
  cluster exists; after `styx down` for STYX_KEEP_LOGS_DAYS days, then removed.
- the file backend's checkpoint backups (`state/.pulumi/backups/<project>/<stack>`): a copy
  of the state before each update, which the engine writes and never reads; the newest
  STYX_KEEP_STATE_BACKUPS per stack. The stack's history (every version) is never touched.

The sweep only reads folder listings and file times (no engine, no network), so it runs by
itself at the end of `styx down` and of every playbook run, and `styx gc` runs it on demand.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from styx.errors import StyxError
from styx.home import open_private, styx_home

__all__ = [
    "Removal",
    "RetentionPolicy",
    "engine_log_settings",
    "engine_logs_dir",
    "hold_run",
    "mark_down",
    "mark_failed",
    "plan_sweep",
    "prune_runs",
    "release_run",
    "remove",
    "run_is_active",
    "sweep",
]

_DEFAULT_FAILED_RUNS = 5
_DEFAULT_LOG_DAYS = 7.0
_DEFAULT_ENGINE_LOG_MB = 50
_DEFAULT_STATE_BACKUPS = 10
# Written in a stack's folder by `styx down` once the stack holds no resources.
DOWN_MARKER = "down"
# In a run folder: flock-ed while the run goes on (the kernel drops it if Styx dies), and
# a marker left by a run that failed.
_ACTIVE = ".styx-active"
_FAILED = ".styx-failed"
_DAY = 86400.0
_STARTING = 60.0


def _debug(env: Mapping[str, str]) -> bool:
    return env.get("STYX_DEBUG", "") not in ("", "0", "false")


def _number(env: Mapping[str, str], name: str, default: float, *, whole: bool) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = -1
    if value < 0:
        kind = "a whole number" if whole else "a number"
        raise StyxError(f"{name}={raw!r} must be {kind} of 0 or more")
    return value


@dataclass(frozen=True)
class RetentionPolicy:
    """What is kept, and for how long; read from the environment by `from_env`."""

    engine_logs: bool = False
    engine_log_mb: int = _DEFAULT_ENGINE_LOG_MB
    failed_runs: int = _DEFAULT_FAILED_RUNS
    log_days: float = _DEFAULT_LOG_DAYS
    state_backups: int = _DEFAULT_STATE_BACKUPS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RetentionPolicy:
        env = os.environ if env is None else env
        return cls(
            engine_logs=_debug(env),
            engine_log_mb=max(1, int(_number(env, "STYX_ENGINE_LOG_MB", _DEFAULT_ENGINE_LOG_MB,
                                             whole=True))),
            failed_runs=int(_number(env, "STYX_KEEP_FAILED_RUNS", _DEFAULT_FAILED_RUNS,
                                    whole=True)),
            log_days=_number(env, "STYX_KEEP_LOGS_DAYS", _DEFAULT_LOG_DAYS, whole=False),
            state_backups=int(_number(env, "STYX_KEEP_STATE_BACKUPS", _DEFAULT_STATE_BACKUPS,
                                      whole=True)),
        )  # fmt: skip


@dataclass(frozen=True)
class Removal:
    """One file or folder the policy removes, its size, and why."""

    path: Path
    size: int
    reason: str


def engine_logs_dir(home: Path | None = None) -> Path:
    """Where the engine writes its logs: always `$PULUMI_HOME/logs` (PULUMI_HOME is ours)."""
    return (home or styx_home()) / "pulumi" / "logs"


def engine_log_settings(policy: RetentionPolicy, home: Path | None = None) -> dict[str, str]:
    """Prepare the engine's log folder for the policy; returns the engine variables it needs.

    Pulumi 3.2xx opens a log file under `$PULUMI_HOME/logs` at the start of every command,
    whatever the flags, and has no setting to stop it (pkg/cmd/pulumi/pulumi.go calls
    logging.StartLogging unconditionally). It gives up, silently, when it cannot create that
    folder. So with logs off a plain file stands in its place: the engine writes no log and
    spends no time formatting one. With logs on the folder is restored and the engine's own
    rotation bounds it.
    """
    logs = engine_logs_dir(home)
    if not policy.engine_logs:
        if logs.is_file() and not logs.is_symlink():
            return {}
        if logs.is_dir() and not logs.is_symlink():
            shutil.rmtree(logs, ignore_errors=True)
        else:
            logs.unlink(missing_ok=True)
        fd = open_private(logs)
        os.write(fd, b"Styx keeps Pulumi's engine logs off; set STYX_DEBUG=1 to keep them.\n")
        os.close(fd)
        return {}
    if logs.exists() and not logs.is_dir():
        logs.unlink()
    return {
        "PULUMI_LOG_ROTATION_MAX_TOTAL_MB": str(policy.engine_log_mb),
        "PULUMI_LOG_ROTATION_MAX_AGE_DAYS": "7",
    }


# Runs -----------------------------------------------------------------------------------


def hold_run(run_dir: Path) -> int:
    """Mark `run_dir` as a run going on; keep the returned descriptor open until it ends."""
    fd = open_private(run_dir / _ACTIVE)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def release_run(fd: int) -> None:
    os.close(fd)


def run_is_active(run_dir: Path) -> bool:
    """Whether some process still runs in `run_dir` (it holds the folder's flock)."""
    try:
        fd = os.open(run_dir / _ACTIVE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def mark_failed(run_dir: Path) -> None:
    os.close(open_private(run_dir / _FAILED))


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def _size(path: Path) -> int:
    if path.is_symlink() or not path.is_dir():
        try:
            return path.lstat().st_size
        except OSError:
            return 0
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir(), key=_mtime)
    except OSError:
        return []


def prune_runs(runs: Path, keep_failed: int) -> list[Removal]:
    """Run folders of `runs` the policy removes: all but the newest `keep_failed` that ended.

    A folder whose run goes on is never counted; one without the active lock that did not
    end well (failed, or its process died) counts as failed.
    """
    now = time.time()
    ended = [
        p
        for p in _children(runs)
        if p.is_dir()
        and not run_is_active(p)
        # Just made, not yet marked active: a run starting now, not one that died.
        and ((p / _ACTIVE).exists() or now - _mtime(p) > _STARTING)
    ]
    stale = ended[: max(0, len(ended) - keep_failed)]
    return [Removal(p, _size(p), "failed run folder beyond the newest kept") for p in stale]


# Stacks after `down` ----------------------------------------------------------------------


def mark_down(stack_dir: Path) -> None:
    """Record that the stack holds no resources any more (its logs' clock starts now)."""
    marker = stack_dir / DOWN_MARKER
    os.close(open_private(marker))
    os.utime(marker)  # a second down restarts the clock: it came after the lock's last write


def _down_since(stack_dir: Path) -> float | None:
    """When the stack went down, or None while it may be live.

    Any apply or down after the marker rewrites the stack's lock, and any job or setup after
    it writes logs or runs: if anything is newer than the marker, the cluster came back.
    """
    marker = stack_dir / DOWN_MARKER
    since = _mtime(marker)
    if not since:
        return None
    touched = [stack_dir / "styx.lock"]
    for sub in ("logs", "runs"):
        touched += _children(stack_dir / sub)
    if any(_mtime(p) > since for p in touched):
        return None
    return since


def _down_stack_removals(stack_dir: Path, policy: RetentionPolicy, now: float) -> list[Removal]:
    since = _down_since(stack_dir)
    if since is None or now - since < policy.log_days * _DAY:
        return []
    day = time.strftime("%Y-%m-%d", time.localtime(since))
    out: list[Removal] = []
    for sub, what in (("logs", "log"), ("runs", "run folder"), ("setup", "setup record")):
        for path in _children(stack_dir / sub):
            if _mtime(path) <= since:
                out.append(Removal(path, _size(path), f"{what} of a cluster down since {day}"))
    return out


def _stack_dirs(home: Path) -> Iterable[Path]:
    for project in _children(home / "stacks"):
        if project.is_dir():
            yield from (s for s in _children(project) if s.is_dir())


# The sweep --------------------------------------------------------------------------------


def plan_sweep(
    policy: RetentionPolicy | None = None, home: Path | None = None, *, now: float | None = None
) -> list[Removal]:
    """Everything the policy removes under STYX_HOME now (nothing is touched)."""
    policy = policy or RetentionPolicy.from_env()
    home = home or styx_home()
    now = time.time() if now is None else now
    out: list[Removal] = []
    logs = engine_logs_dir(home)
    if not policy.engine_logs and logs.is_dir() and not logs.is_symlink():
        out += [Removal(p, _size(p), "engine log (logs are off without STYX_DEBUG)")
                for p in _children(logs)]  # fmt: skip
    backups = home / "state" / ".pulumi" / "backups"
    for project in _children(backups):
        for stack in _children(project):
            copies = [p for p in _children(stack) if p.is_file()]
            out += [Removal(p, _size(p), "state backup beyond the newest kept (history stays)")
                    for p in copies[: max(0, len(copies) - policy.state_backups)]]  # fmt: skip
    for stack_dir in _stack_dirs(home):
        down = _down_stack_removals(stack_dir, policy, now)
        out += down
        taken = {r.path for r in down}
        out += [r for r in prune_runs(stack_dir / "runs", policy.failed_runs)
                if r.path not in taken]  # fmt: skip
    return out


def remove(removals: Iterable[Removal]) -> int:
    """Remove what `plan_sweep` listed; returns the bytes freed. Gone already is fine."""
    freed = 0
    for item in removals:
        path = item.path
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        if not path.exists():
            freed += item.size
    return freed


def sweep(policy: RetentionPolicy | None = None, home: Path | None = None) -> list[Removal]:
    """Apply the policy now; returns what it removed."""
    removals = plan_sweep(policy, home)
    remove(removals)
    return removals
