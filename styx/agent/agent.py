"""Styx's head-node agent: the job queue in SQLite, FIFO scheduling, jobs started on nodes over SSH.

One self-contained file, standard library only, Python 3.8+ syntax, so it runs on a stock cloud
image; Styx copies it to ~/.styx-agent/agent.py on every node and runs the daemon on the head.
Styx reaches it only by running `python3 ~/.styx-agent/agent.py SUBCOMMAND` over SSH; every
subcommand prints one JSON document (or JSON lines for `logs --follow`).

On the head:  configure, start, stop, status, submit, queue, logs, cancel, wait, activity,
              autostop (what autostop sees now), poweroff (a cloud's autostop action),
              daemon (the scheduler loop and autostop), supervise (one job's runner, detached).

Autostop: the daemon decides idleness itself (see `idle_verdict`): no job pending or running,
no setup running on any node (each node's own setup record, read over SSH, so a setup whose
Styx was killed still counts), and with wait_for jobs_and_ssh (SkyPilot's default) no
interactive SSH session (a terminal) open on the head.
After the idle minutes it runs the action its cloud configured (local: a command that stops
every node's processes; AWS: `shutdown -h now`, which EC2 turns into a stop or a termination).
A "minute" is config["seconds_per_minute"] seconds (60; tests shorten it).
On any node:  launch (run one phase of one job here), kill (end every process of a job here).

Killing a job: every process a job starts on a node carries STYX_JOB_MARKER=<cluster>:<job> in its
environment and runs in its own session; where this user may write a cgroup v2 tree the job is
also placed in its own cgroup. `kill` empties that cgroup (cgroup.kill) and then kills every
process whose /proc/<pid>/environ holds the marker, `setsid` daemons included. Limit: without a
writable cgroup, a process that clears its own environment (env -i) escapes the marker scan.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import select
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import time
from typing import Any, Container, Dict, Optional, Tuple

AGENT_VERSION = "1"
DIR_NAME = ".styx-agent"
MARKER_VAR = "STYX_JOB_MARKER"
EXIT_TAG = "STYX-AGENT-EXIT "
# SkyPilot's default CPU demand of a job that names no cpus: two such jobs share one CPU.
DEFAULT_CPU_DEMAND = 0.5
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "FAILED_SETUP")
ACTIVE = ("SETTING_UP", "RUNNING")
_TICK = 0.5
_SECRETS_WAIT = 60.0
_LOG_CHUNK = 1 << 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    user TEXT NOT NULL,
    num_nodes INTEGER NOT NULL,
    demand TEXT NOT NULL,
    setup TEXT,
    run TEXT NOT NULL,
    envs TEXT NOT NULL,
    secrets_token TEXT,
    cwd TEXT NOT NULL,
    task_id TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    nodes TEXT,
    supervisor_pid INTEGER,
    submitted_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL
);
CREATE TABLE IF NOT EXISTS job_nodes (
    job_id INTEGER NOT NULL,
    node TEXT NOT NULL,
    rank INTEGER NOT NULL,
    exit_code INTEGER,
    error TEXT,
    PRIMARY KEY (job_id, node)
);
CREATE TABLE IF NOT EXISTS activity (
    key TEXT PRIMARY KEY,
    value REAL NOT NULL
);
"""


# Per node: (exit code, None) or (None, why the node was lost). typing's forms: this runs on 3.8.
_Results = Dict[str, Tuple[Optional[int], Optional[str]]]


class AgentError(Exception):
    """A request the agent refuses; printed as {"error": ...} with exit code 2."""


# ---------------------------------------------------------------------------------------------
# Paths and files


def agent_dir() -> str:
    return os.path.join(os.path.expanduser(os.environ.get("HOME", "~")), DIR_NAME)


def _path(*parts: str) -> str:
    return os.path.join(agent_dir(), *parts)


def _write_private(path: str, data: bytes) -> None:
    """Write a file only its owner can read, atomically (readers never see half of it)."""
    tmp = f"{path}.tmp.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def file_sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _ensure_dir(path: str) -> str:
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def load_config() -> dict[str, Any]:
    try:
        with open(_path("config.json"), encoding="utf-8") as handle:
            config = dict(json.load(handle))
    except FileNotFoundError:
        raise AgentError("the agent is not configured on this node") from None
    return config


# ---------------------------------------------------------------------------------------------
# The queue in SQLite


def connect(path: str | None = None) -> sqlite3.Connection:
    """The job database; WAL and a busy timeout make concurrent CLI invocations safe."""
    path = path or _path("jobs.db")
    fresh = not os.path.exists(path)
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    if fresh:
        os.chmod(path, 0o600)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=30000")
    # In WAL mode NORMAL is still crash-safe for the database; it skips an fsync per commit.
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(_SCHEMA)
    return db


class Tx:
    """BEGIN IMMEDIATE ... COMMIT: one writer at a time, readers never blocked (WAL)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind: object, value: object, trace: object) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def touch(db: sqlite3.Connection, key: str, when: float | None = None) -> None:
    # INSERT OR REPLACE, not an upsert: older images ship an SQLite without ON CONFLICT.
    db.execute(
        "INSERT OR REPLACE INTO activity (key, value) VALUES (?, ?)",
        (key, time.time() if when is None else when),
    )


def normalise_demand(raw: dict[str, Any]) -> dict[str, Any]:
    """A job's per-node demand: cpus (SkyPilot's 0.5 when unnamed) and accelerators."""
    cpus = raw.get("cpus")
    accelerators = {str(k): float(v) for k, v in dict(raw.get("accelerators") or {}).items()}
    return {
        "cpus": DEFAULT_CPU_DEMAND if cpus is None else float(cpus),
        "accelerators": accelerators,
    }


def submit_job(
    db: sqlite3.Connection, config: dict[str, Any], request: dict[str, Any], now: float
) -> int:
    """Queue a job (PENDING); refuse one the cluster could never run."""
    nodes = config["nodes"]
    num_nodes = int(request.get("num_nodes") or 1)
    if num_nodes < 1 or num_nodes > len(nodes):
        raise AgentError(f"the job asks for {num_nodes} node(s); the cluster has {len(nodes)}")
    demand = normalise_demand(request.get("demand") or {})
    fitting = [n for n in nodes if fits(demand, capacity_of(n), {"cpus": 0.0, "accelerators": {}})]
    if len(fitting) < num_nodes:
        raise AgentError(
            f"the job's demand per node ({describe(demand)}) exceeds what {num_nodes} "
            "node(s) of the cluster have"
        )
    run = request.get("run")
    if not isinstance(run, str) or not run.strip():
        raise AgentError("the job has no run command")
    secrets = {str(k): str(v) for k, v in dict(request.get("secrets") or {}).items()}
    token = hand_secrets(secrets) if secrets else None
    with Tx(db):
        cursor = db.execute(
            "INSERT INTO jobs (name, user, num_nodes, demand, setup, run, envs, secrets_token, "
            "cwd, state, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', ?)",
            (
                str(request.get("name") or "job"),
                str(request.get("user") or "unknown"),
                num_nodes,
                json.dumps(demand, sort_keys=True),
                request.get("setup") or None,
                run,
                json.dumps(dict(request.get("envs") or {}), sort_keys=True),
                token,
                str(request.get("cwd") or ""),
                now,
            ),
        )
        job_id = int(cursor.lastrowid or 0)
        touch(db, "last_submit", now)
    return job_id


def job_record(db: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    """A job as the client reads it (never its secrets)."""
    nodes = [
        {"node": r["node"], "rank": r["rank"], "exit_code": r["exit_code"], "error": r["error"]}
        for r in db.execute("SELECT * FROM job_nodes WHERE job_id = ? ORDER BY rank", (row["id"],))
    ]
    return {
        "id": row["id"],
        "name": row["name"],
        "user": row["user"],
        "num_nodes": row["num_nodes"],
        "demand": json.loads(row["demand"]),
        "state": row["state"],
        "reason": row["reason"],
        "task_id": row["task_id"],
        "submitted_at": row["submitted_at"],
        "started_at": row["started_at"],
        "ended_at": row["ended_at"],
        "nodes": nodes,
    }


def get_job(db: sqlite3.Connection, job_id: int) -> sqlite3.Row:
    row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        raise AgentError(f"no job {job_id} on this cluster")
    return row  # type: ignore[no-any-return]


def finish_job(
    db: sqlite3.Connection, job_id: int, state: str, reason: str | None, now: float
) -> bool:
    """Move a job to a terminal state unless it is in one already."""
    with Tx(db):
        done = db.execute(
            "UPDATE jobs SET state = ?, reason = ?, ended_at = ? "
            "WHERE id = ? AND state NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'FAILED_SETUP')",
            (state, reason, now, job_id),
        ).rowcount
        if done:
            touch(db, "last_job_end", now)
    return bool(done)


# ---------------------------------------------------------------------------------------------
# Scheduling (pure)


def capacity_of(node: dict[str, Any]) -> dict[str, Any]:
    cpus = node.get("cpus")
    return {
        "cpus": float(cpus) if cpus is not None else float(os.cpu_count() or 1),
        "accelerators": {str(k): float(v) for k, v in dict(node.get("accelerators") or {}).items()},
    }


def describe(demand: dict[str, Any]) -> str:
    parts = ["{:g} CPU".format(demand["cpus"])]
    parts += [f"{k}:{v:g}" for k, v in sorted(demand["accelerators"].items())]
    return ", ".join(parts)


def fits(demand: dict[str, Any], capacity: dict[str, Any], used: dict[str, Any]) -> bool:
    # A small epsilon: 0.1 + 0.2 of a CPU must fit in 0.3.
    if used["cpus"] + demand["cpus"] > capacity["cpus"] + 1e-9:
        return False
    for name, count in demand["accelerators"].items():
        have = capacity["accelerators"].get(name, 0.0)
        if used["accelerators"].get(name, 0.0) + count > have + 1e-9:
            return False
    return True


def _add(used: dict[str, Any], demand: dict[str, Any]) -> None:
    used["cpus"] += demand["cpus"]
    for name, count in demand["accelerators"].items():
        used["accelerators"][name] = used["accelerators"].get(name, 0.0) + count


def schedule(
    nodes: list[dict[str, Any]],
    running: list[tuple[dict[str, Any], list[str]]],
    pending: list[tuple[int, int, dict[str, Any]]],
) -> list[tuple[int, list[str]]]:
    """Which pending jobs start now, on which nodes: FIFO, each job that fits starts.

    nodes: [{"name", "cpus", "accelerators"}] in rank order; running: [(demand, [node names])];
    pending: [(job id, num_nodes, demand)] in submission order. A job that does not fit yet
    keeps its place; a later job that fits beside the running ones starts at once (SkyPilot
    behaves the same). Nodes are taken in rank order, so the head is preferred.
    Returns [(job id, [node names])].
    """
    used = {n["name"]: {"cpus": 0.0, "accelerators": {}} for n in nodes}
    for demand, names in running:
        for name in names:
            if name in used:
                _add(used[name], demand)
    capacity = {n["name"]: capacity_of(n) for n in nodes}
    started = []
    for job_id, num_nodes, demand in pending:
        chosen = [n["name"] for n in nodes if fits(demand, capacity[n["name"]], used[n["name"]])]
        if len(chosen) < num_nodes:
            continue
        chosen = chosen[:num_nodes]
        for name in chosen:
            _add(used[name], demand)
        started.append((job_id, chosen))
    return started


def schedule_step(
    db: sqlite3.Connection,
    config: dict[str, Any],
    now: float,
    held: Container[str] | None = None,
) -> list[tuple[int, list[str]]]:
    """Allocate nodes to the pending jobs that fit; returns [(job id, node names)] to start.

    With `held` (the secret tokens the daemon holds), a job whose secrets have not arrived
    waits; one whose secrets never arrive (or were lost with a restart) fails after a minute.
    """
    with Tx(db):
        if held is not None:
            for r in db.execute(
                "SELECT id, secrets_token, submitted_at FROM jobs WHERE state = 'PENDING' "
                "AND secrets_token IS NOT NULL"
            ).fetchall():
                if r["secrets_token"] not in held and now - r["submitted_at"] > _SECRETS_WAIT:
                    db.execute(
                        "UPDATE jobs SET state = 'FAILED', ended_at = ?, reason = ? WHERE id = ?",
                        (now, "its secrets were lost (the agent restarted): submit it again",
                         r["id"]),
                    )  # fmt: skip
        running = [
            (json.loads(r["demand"]), json.loads(r["nodes"] or "[]"))
            for r in db.execute("SELECT demand, nodes FROM jobs WHERE state IN (?, ?)", ACTIVE)
        ]
        pending = [
            (r["id"], r["num_nodes"], json.loads(r["demand"]))
            for r in db.execute("SELECT * FROM jobs WHERE state = 'PENDING' ORDER BY id")
            if held is None or r["secrets_token"] is None or r["secrets_token"] in held
        ]
        chosen = schedule(config["nodes"], running, pending)
        cluster = config.get("cluster", "cluster")
        for job_id, names in chosen:
            row = get_job(db, job_id)
            first = "SETTING_UP" if row["setup"] else "RUNNING"
            stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(row["submitted_at"]))
            task_id = f"sky-{stamp}_{cluster}_{job_id}"
            db.execute(
                "UPDATE jobs SET state = ?, nodes = ?, started_at = ?, task_id = ? WHERE id = ?",
                (first, json.dumps(names), now, task_id, job_id),
            )
            by_name = {n["name"]: n for n in config["nodes"]}
            for rank, name in enumerate(names):
                db.execute(
                    "INSERT OR REPLACE INTO job_nodes (job_id, node, rank) VALUES (?, ?, ?)",
                    (job_id, by_name[name]["name"], rank),
                )
    return chosen


# ---------------------------------------------------------------------------------------------
# The environment a job sees


def job_environment(
    config: dict[str, Any], job: dict[str, Any], names: list[str], rank: int, phase: str
) -> dict[str, str]:
    """SkyPilot's variables for one node of one job, and their STYX_* twins.

    SKYPILOT_NODE_IPS lists the job's nodes (one address a line, in the job's rank order) and
    SKYPILOT_NUM_NODES counts them, as SkyPilot sets them for `run`; setup gets the
    SKYPILOT_SETUP_* forms.
    """
    by_name = {n["name"]: n for n in config["nodes"]}
    ips = "\n".join(str(by_name[n].get("ip") or by_name[n]["address"]) for n in names)
    gpus = sum(job["demand"]["accelerators"].values())
    info = json.dumps(
        {
            "cluster_name": config.get("cluster"),
            "cloud": config.get("cloud"),
            "region": config.get("region"),
            "zone": config.get("zone"),
            "num_nodes": len(names),
            "node_ips": ips.split("\n"),
        },
        sort_keys=True,
    )
    env = {
        "SKYPILOT_NODE_RANK": str(rank),
        "SKYPILOT_NODE_IPS": ips,
        "SKYPILOT_NUM_NODES": str(len(names)),
        "SKYPILOT_NUM_GPUS_PER_NODE": str(math.ceil(gpus)),
        "SKYPILOT_TASK_ID": job["task_id"],
        "SKYPILOT_CLUSTER_INFO": info,
    }
    if phase == "setup":
        env.update(
            {
                "SKYPILOT_SETUP_NODE_RANK": str(rank),
                "SKYPILOT_SETUP_NODE_IPS": ips,
                "SKYPILOT_SETUP_NUM_NODES": str(len(names)),
            }
        )
    twins = {"STYX_" + k[len("SKYPILOT_") :]: v for k, v in env.items()}
    twins.update(
        {
            "STYX_NODE_NAME": names[rank],
            "STYX_CLUSTER_NAME": str(config.get("cluster")),
            "STYX_JOB_ID": str(job["id"]),
            "STYX_JOB_NAME": job["name"],
        }
    )
    env.update(twins)
    return env


# ---------------------------------------------------------------------------------------------
# SSH from the head to the nodes


def ssh_argv(node: dict[str, Any], remote: str) -> list[str]:
    """ssh to a node with the cluster key; host keys checked against the known_hosts Styx gave."""
    return [
        "ssh", "-F", "/dev/null",
        "-i", _path("cluster_key"),
        "-o", "IdentitiesOnly=yes",
        "-o", "IdentityAgent=none",
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "UserKnownHostsFile=\"{}\"".format(_path("known_hosts")),
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "ConnectTimeout=15",
        "-o", "ServerAliveInterval=5",
        "-o", "ServerAliveCountMax=6",
        "-o", "LogLevel=ERROR",
        "-o", "ControlMaster=auto",
        "-o", f'ControlPath="{_control_dir()}/%C"',
        "-o", "ControlPersist=300",
        "-p", str(node.get("port", 22)),
        "-l", str(node["user"]),
        str(node["address"]),
        remote,
    ]  # fmt: skip


def _control_dir() -> str:
    """Where the head keeps one shared connection per node, so a job starts without a handshake.

    A socket path holds 107 bytes (ssh's %C is 40 of them): a long home gets a short folder
    under /tmp named after it instead.
    """
    folder = _path("cm")
    if len(folder) > 107 - 41 - 20:
        tag = hashlib.sha256(folder.encode("utf-8")).hexdigest()[:16]
        folder = os.path.join("/tmp", f"styx-agent-{os.getuid()}-{tag}")
    return _ensure_dir(folder)


REMOTE_AGENT = f'exec python3 "$HOME/{DIR_NAME}/agent.py"'


def job_marker(config: dict[str, Any], job_id: int) -> str:
    """What every process of the job carries in its environment, on every node."""
    return f"{config.get('cluster')}:{job_id}"


def _node_by_name(config: dict[str, Any], name: str) -> dict[str, Any]:
    for node in config["nodes"]:
        if node["name"] == name:
            return dict(node)
    raise AgentError(f"no node {name!r} in this cluster")


# ---------------------------------------------------------------------------------------------
# supervise: one job, from start to its exit codes (a detached process on the head)


def _exit_of(err_path: str) -> tuple[int | None, str | None]:
    """(exit code, None) when the launcher reported one, else (None, why the node was lost)."""
    try:
        with open(err_path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        lines = []
    for line in reversed(lines):
        if line.startswith(EXIT_TAG):
            return int(line[len(EXIT_TAG) :].strip()), None
    other = [ln for ln in lines if ln.strip()]
    why = other[-1] if other else "the connection ended without an exit code"
    return None, f"node lost: {why}"


def run_phase(
    config: dict[str, Any], job: dict[str, Any], names: list[str], phase: str, script: str
) -> _Results:
    """Run one phase (setup or run) of the job on each of its nodes at once; results per node."""
    log_dir = _ensure_dir(_path("logs", str(job["id"])))
    marker = job_marker(config, int(job["id"]))
    secrets = job.get("secret_values") or {}
    procs = []
    for rank, name in enumerate(names):
        node = _node_by_name(config, name)
        env = dict(json.loads(job["envs"]))
        env.update(job_environment(config, job, names, rank, phase))
        env.update(secrets)
        payload = {
            "job": job["id"],
            "phase": phase,
            "marker": marker,
            "script": script,
            "env": env,
            "mask": sorted(v for v in secrets.values() if v),
            "cwd": job["cwd"],
        }
        fd = os.open(
            os.path.join(log_dir, f"{name}.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
        )
        with open(os.path.join(log_dir, f"{name}.{phase}.err"), "wb") as err:
            proc = subprocess.Popen(
                ssh_argv(node, REMOTE_AGENT + " launch"),
                stdin=subprocess.PIPE,
                stdout=fd,
                stderr=err,
            )
        os.close(fd)
        assert proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(payload).encode("utf-8"))
            proc.stdin.close()
        except BrokenPipeError:
            pass
        procs.append((name, proc))
    # Fail fast, as SkyPilot does: once one node fails or is lost, the job ends on the others,
    # whose results then say they were stopped (so the reason names only the culprits).
    results: _Results = {}
    culprits: list[str] = []
    while len(results) < len(procs):
        for name, proc in procs:
            if name in results or proc.poll() is None:
                continue
            code, error = _exit_of(os.path.join(log_dir, f"{name}.{phase}.err"))
            results[name] = (code, error)
            if not (code or error):
                continue
            if culprits:
                if error is None and name not in culprits:
                    results[name] = (code, STOPPED + ", ".join(culprits))
                continue
            culprits.append(name)
            others = [n for n, p in procs if n not in results and p.poll() is None]
            kill_on(config, others, marker)
        time.sleep(0.05)
    return results


STOPPED = "stopped: the job failed on "


def failure_reason(results: _Results, phase: str) -> str | None:
    """Why a phase failed, naming the nodes that failed first (None when it succeeded)."""
    parts = []
    for name, (code, error) in sorted(results.items()):
        if error is not None and not error.startswith(STOPPED):
            parts.append(f"{name}: {error}")
        elif error is None and code:
            parts.append(f"{phase} exited with code {code} on {name}")
    return "; ".join(parts) or None


def kill_on(config: dict[str, Any], names: list[str], marker: str) -> None:
    """End every process carrying the job's marker on each named node."""
    calls = [
        subprocess.Popen(
            ssh_argv(
                _node_by_name(config, name), f"{REMOTE_AGENT} kill --json --marker '{marker}'"
            ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in names
    ]
    for call in calls:
        try:
            call.wait(timeout=120)
        except subprocess.TimeoutExpired:
            call.kill()


def _record(db: sqlite3.Connection, job_id: int, results: _Results) -> None:
    with Tx(db):
        for name, (code, error) in results.items():
            db.execute(
                "UPDATE job_nodes SET exit_code = ?, error = ? WHERE job_id = ? AND node = ?",
                (code, error, job_id, name),
            )


def _lost(results: _Results) -> bool:
    return any(e is not None and e.startswith("node lost") for _c, e in results.values())


def supervise(job_id: int) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the daemon ignores it; we wait for ssh
    config = load_config()
    db = connect()
    row = get_job(db, job_id)
    job = dict(row)
    job["demand"] = json.loads(row["demand"])
    # The daemon writes the job's secrets to our stdin: they never rest in a file.
    handed = sys.stdin.read() if row["secrets_token"] else ""
    job["secret_values"] = json.loads(handed) if handed else {}
    names = json.loads(row["nodes"])
    with Tx(db):
        db.execute("UPDATE jobs SET supervisor_pid = ? WHERE id = ?", (os.getpid(), job_id))
    try:
        if job["setup"]:
            results = run_phase(config, job, names, "setup", job["setup"])
            reason = failure_reason(results, "setup")
            if reason:
                _record(db, job_id, results)
                state = "FAILED" if _lost(results) else "FAILED_SETUP"
                finish_job(db, job_id, state, reason, time.time())
                return
            with Tx(db):
                db.execute(
                    "UPDATE jobs SET state = 'RUNNING' WHERE id = ? AND state = 'SETTING_UP'",
                    (job_id,),
                )
        results = run_phase(config, job, names, "run", job["run"])
        _record(db, job_id, results)
        reason = failure_reason(results, "run")
        finish_job(db, job_id, "FAILED" if reason else "SUCCEEDED", reason, time.time())
    except Exception as exc:  # the job must never stay RUNNING with no one watching it
        finish_job(db, job_id, "FAILED", f"agent: {exc}", time.time())
        raise
    finally:
        _wake_daemon()


# ---------------------------------------------------------------------------------------------
# launch and kill: the node side


def _cgroup_root() -> str | None:
    """The cgroup v2 mount, when this user may make groups below it (root, or delegated)."""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as handle:
            mounts = [line.split() for line in handle]
    except OSError:
        return None
    own = ""
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("0::"):
                    own = line[3:].strip().lstrip("/")
    except OSError:
        pass
    for fields in mounts:
        if len(fields) > 2 and fields[2] == "cgroup2":
            # Below this node's own group first: whatever stops the node (a local node's
            # cgroup.kill) then stops its jobs too, daemonised ones included.
            for base in (os.path.join(fields[1], own, "styx-jobs"),
                         os.path.join(fields[1], "styx-jobs")):
                try:
                    os.makedirs(base, exist_ok=True)
                except OSError:
                    continue
                if os.access(base, os.W_OK):
                    return base
            return None
    return None


def _cgroup_name(marker: str) -> str:
    return hashlib.sha256(marker.encode("utf-8")).hexdigest()[:24]


def _mask(line: bytes, secrets: list[bytes]) -> bytes:
    for value in secrets:
        line = line.replace(value, b"[secret]")
    return line


def _terminated(_signum: int, _frame: object) -> None:
    with contextlib.suppress(OSError):
        sys.stderr.write("styx-agent: the node is shutting down (launcher terminated)\n")
        sys.stderr.flush()
    os._exit(1)


def launch() -> int:
    """Run one phase of a job on this node; output (secrets masked) to stdout, exit code last."""
    payload = json.loads(sys.stdin.read())
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # the job outlives a dropped connection
    # Only a node going down terminates the launcher (cancel kills by the job's marker, which
    # the launcher does not carry): then the job has no exit code, the node was lost.
    signal.signal(signal.SIGTERM, _terminated)
    home = os.path.expanduser(os.environ.get("HOME", "~"))
    job_dir = _ensure_dir(_path("jobs", str(payload["job"])))
    script = os.path.join(job_dir, "{}.sh".format(payload["phase"]))
    _write_private(script, payload["script"].encode("utf-8"))
    env = dict(os.environ)
    env.update({str(k): str(v) for k, v in payload["env"].items()})
    env[MARKER_VAR] = payload["marker"]
    cwd = os.path.join(home, payload["cwd"]) if payload["cwd"] else home
    if not os.path.isdir(cwd):
        sys.stdout.write(f"styx: the working directory {cwd} does not exist\n")
        sys.stderr.write(f"{EXIT_TAG}1\n")
        return 1
    group = None
    root = _cgroup_root()
    if root is not None:
        group = os.path.join(root, _cgroup_name(payload["marker"]))
        try:
            os.makedirs(group, exist_ok=True)
        except OSError:
            group = None

    def enter_group() -> None:  # runs in the child before exec
        if group is not None:
            try:
                with open(os.path.join(group, "cgroup.procs"), "w") as procs:
                    procs.write(str(os.getpid()))
            except OSError:
                pass

    child = subprocess.Popen(
        ["bash", script],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=enter_group,
    )
    _write_private(os.path.join(job_dir, "{}.pid".format(payload["phase"])), b"%d\n" % child.pid)
    secrets = [str(v).encode("utf-8") for v in payload["mask"]]
    assert child.stdout is not None
    out = sys.stdout.buffer
    with open(os.path.join(job_dir, "output.log"), "ab") as local:
        os.chmod(os.path.join(job_dir, "output.log"), 0o600)
        for line in iter(child.stdout.readline, b""):
            line = _mask(line, secrets)
            local.write(line)
            local.flush()
            if out is not None:
                try:
                    out.write(line)
                    out.flush()
                except OSError:
                    out = None  # the connection is gone; the node-side log still has it all
    code = child.wait()
    code = code if code >= 0 else 128 - code
    _write_private(os.path.join(job_dir, "{}.exit_code".format(payload["phase"])), b"%d\n" % code)
    try:
        sys.stderr.write(f"{EXIT_TAG}{code}\n")
        sys.stderr.flush()
    except OSError:
        pass
    return 0


def marked_pids(marker: str, me: int) -> list[int]:
    """Every process whose environment holds STYX_JOB_MARKER=<marker>."""
    needle = (f"{MARKER_VAR}={marker}").encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                variables = handle.read().split(b"\0")
        except OSError:
            continue
        if needle in variables:
            found.append(int(entry))
    return found


def kill_job(marker: str, grace: float = 2.0) -> int:
    """End every process of the job on this node: its cgroup, then the marker scan, until none."""
    killed = set()
    root = _cgroup_root()
    group = os.path.join(root, _cgroup_name(marker)) if root else None
    me = os.getpid()
    deadline = time.monotonic() + grace
    sig = signal.SIGTERM
    for _round in range(200):
        pids = marked_pids(marker, me)
        if group is not None and os.path.isdir(group):
            if sig == signal.SIGKILL and os.path.exists(os.path.join(group, "cgroup.kill")):
                try:
                    with open(os.path.join(group, "cgroup.kill"), "w") as handle:
                        handle.write("1")
                except OSError:
                    pass
            try:
                with open(os.path.join(group, "cgroup.procs"), encoding="ascii") as handle:
                    pids += [int(p) for p in handle.read().split()]
            except OSError:
                pass
        pids = [p for p in set(pids) if p != me]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, sig)
                killed.add(pid)
            except OSError:
                pass
        time.sleep(0.05)
        if time.monotonic() > deadline:
            sig = signal.SIGKILL
    if group is not None:
        with contextlib.suppress(OSError):
            os.rmdir(group)
    return len(killed)


# ---------------------------------------------------------------------------------------------
# The daemon


def _read_pid() -> int | None:
    try:
        with open(_path("agent.pid"), encoding="ascii") as handle:
            pid = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _is_daemon(pid) else None


def _daemon_sha() -> str | None:
    """The SHA-256 of the file the running daemon was started from (its pid file says)."""
    try:
        with open(_path("agent.pid"), encoding="ascii") as handle:
            parts = handle.read().split()
    except OSError:
        return None
    return parts[1] if len(parts) > 1 else None


def _is_daemon(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return False
    return any(a.endswith(b"agent.py") for a in argv) and b"daemon" in argv


def _wake_daemon() -> None:
    pid = _read_pid()
    if pid is not None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGUSR1)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _spawn_supervisor(job_id: int, secrets: dict[str, str] | None) -> int:
    log = os.open(_path("agent.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "supervise", str(job_id)],
        stdin=subprocess.PIPE,
        stdout=log,
        stderr=log,
        start_new_session=True,  # a daemon restart or upgrade leaves running jobs alone
        close_fds=True,
    )
    os.close(log)
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(json.dumps(secrets).encode("utf-8") if secrets else b"")
    proc.stdin.close()
    return proc.pid


def daemon_step(
    db: sqlite3.Connection,
    config: dict[str, Any],
    spawned: dict[int, int],
    vault: dict[str, dict[str, str]],
) -> None:
    """One turn of the loop: notice supervisors that died, start what fits."""
    now = time.time()
    for row in db.execute("SELECT id, supervisor_pid, started_at FROM jobs WHERE state IN (?, ?)",
                          ACTIVE).fetchall():  # fmt: skip
        pid = row["supervisor_pid"] or spawned.get(row["id"])
        if pid is None:
            if now - (row["started_at"] or now) > 30:
                why = "agent: the job's supervisor never started"
                finish_job(db, row["id"], "FAILED", why, now)
            continue
        if not _alive(pid):
            why = "agent: the job's supervisor ended without a result"
            finish_job(db, row["id"], "FAILED", why, now)
    for job_id, _names in schedule_step(db, config, now, vault):
        token = get_job(db, job_id)["secrets_token"]
        spawned[job_id] = _spawn_supervisor(job_id, vault.pop(token, None) if token else None)
    active = db.execute("SELECT COUNT(*) FROM jobs WHERE state IN (?, ?)", ACTIVE).fetchone()[0]
    pending = db.execute("SELECT COUNT(*) FROM jobs WHERE state = 'PENDING'").fetchone()[0]
    with Tx(db):
        touch(db, "jobs_active", float(active))
        touch(db, "jobs_pending", float(pending))
        touch(db, "daemon_heartbeat", now)
        if active or pending:
            touch(db, "last_busy", now)


# ---------------------------------------------------------------------------------------------
# Autostop: idleness, the setup and SSH probes, the cloud's action

# The times an idle period starts after; the latest one wins.
IDLE_CLOCKS = ("daemon_started", "configured_at", "last_submit", "last_job_end", "last_busy",
               "setup_ended")
_SETUP_PROBE = (
    'o="$HOME/.styx/setup.outcome"; p=$(cat "$HOME/.styx/setup.pid" 2>/dev/null); '
    's=$(head -c 7 "$o" 2>/dev/null); m=$(stat -c %Y "$o" 2>/dev/null || echo 0); r=0; '
    'if [ "$s" = started ] && [ -n "$p" ] && grep -q .styx/setup "/proc/$p/cmdline" 2>/dev/null; '
    'then r=1; fi; echo "$r $m"'
)


def idle_verdict(
    autostop: dict[str, Any] | None,
    clocks: dict[str, float],
    jobs: int,
    sessions: int,
    now: float,
    seconds_per_minute: float = 60.0,
) -> tuple[str, float, float]:
    """(verdict, idle since, deadline): "off", "busy", "waiting" or "due".

    `jobs` counts the jobs pending or running, `sessions` the open SSH sessions on the head
    (only wait_for jobs_and_ssh counts them). wait_for none stops after the idle minutes
    whatever runs, counted from when autostop was configured or the agent started (SkyPilot's
    hard limit). Setup is not counted here: the daemon probes the nodes once this says "due".
    """
    if not autostop:
        return "off", 0.0, 0.0
    wait_for = str(autostop.get("wait_for") or "jobs_and_ssh")  # SkyPilot's default
    limit = float(autostop.get("idle_minutes", 5)) * seconds_per_minute
    if wait_for == "none":
        since = max(clocks.get("daemon_started", 0.0), clocks.get("configured_at", 0.0))
        return ("due" if now >= since + limit else "waiting"), since, since + limit
    if jobs > 0 or (wait_for == "jobs_and_ssh" and sessions > 0):
        return "busy", now, now + limit
    since = max([clocks.get(k, 0.0) for k in IDLE_CLOCKS] + [0.0])
    return ("due" if now >= since + limit else "waiting"), since, since + limit


def process_table() -> dict[int, tuple[int, str, int]]:
    """pid -> (parent pid, command name, controlling terminal) of every process we can see."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                raw = handle.read()
        except OSError:
            continue
        name = raw[raw.find("(") + 1 : raw.rfind(")")]
        fields = raw[raw.rfind(")") + 2 :].split()
        if len(fields) > 4:
            table[int(entry)] = (int(fields[1]), name, int(fields[4]))
    return table


def _environ_has(pid: int, variable: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return variable in handle.read().split(b"\0")
    except OSError:
        return False


def ssh_sessions(
    table: dict[int, tuple[int, str, int]] | None = None,
    belongs: Any = None,
) -> int:
    """Interactive SSH sessions on this node: pseudo-terminals whose process descends from sshd.

    As SkyPilot counts them: Styx's own calls, Ansible and the agent's connections allocate
    no terminal, so they never keep a cluster up. Where nodes share a host (local), only the
    sessions carrying this node's marker (STYX_NODE_ROOT, as the agent itself does) count.
    """
    table = process_table() if table is None else table
    if belongs is None:
        root = os.environ.get("STYX_NODE_ROOT")
        mark = f"STYX_NODE_ROOT={root}".encode() if root else None
        belongs = (lambda pid: _environ_has(pid, mark)) if mark else (lambda _pid: True)
    terminals = set()
    for pid, (_ppid, _name, tty) in table.items():
        major = (tty >> 8) & 0xFFF
        if not 136 <= major <= 143 or tty in terminals:  # Unix98 pseudo-terminals
            continue
        parent, seen = table[pid][0], 0
        while parent in table and seen < 64:
            if table[parent][1].startswith("sshd"):
                if belongs(pid):
                    terminals.add(tty)
                break
            parent, seen = table[parent][0], seen + 1
    return len(terminals)


def setup_activity(config: dict[str, Any]) -> tuple[bool, float]:
    """(setup runs on some node now, the latest end of a setup), from each node's own record."""
    calls = [
        (node["name"], subprocess.Popen(
            ssh_argv(node, _SETUP_PROBE), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ))
        for node in config["nodes"]
    ]  # fmt: skip
    running, ended = False, 0.0
    for name, call in calls:
        try:
            out, _err = call.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            call.kill()
            call.communicate()
            sys.stderr.write(f"agent: autostop could not read the setup record of {name}\n")
            continue
        parts = out.decode("ascii", errors="replace").split()
        if call.returncode != 0 or len(parts) != 2:
            # An unreachable node cannot be setting up for us; it does not keep the cluster up.
            sys.stderr.write(f"agent: autostop could not read the setup record of {name}\n")
            continue
        running = running or parts[0] == "1"
        ended = max(ended, float(parts[1]) if parts[1].isdigit() else 0.0)
    return running, ended


def _clocks(db: sqlite3.Connection) -> dict[str, float]:
    return {r["key"]: float(r["value"]) for r in db.execute("SELECT * FROM activity")}


def autostop_state(
    db: sqlite3.Connection, config: dict[str, Any], now: float, sessions: int | None = None
) -> dict[str, Any]:
    """What autostop sees now (for `activity` and the daemon): verdict, idle since, deadline."""
    autostop = config.get("autostop")
    jobs = db.execute(
        "SELECT COUNT(*) FROM jobs WHERE state IN ('PENDING', 'SETTING_UP', 'RUNNING')"
    ).fetchone()[0]
    if sessions is None:
        mode = dict(autostop or {}).get("wait_for") or "jobs_and_ssh"  # SkyPilot's default
        wants = bool(autostop) and mode == "jobs_and_ssh"
        # The /proc scan only when it can matter: a job keeps the cluster up anyway.
        sessions = ssh_sessions() if wants and not jobs else 0
    spm = float(config.get("seconds_per_minute") or 60.0)
    verdict, since, deadline = idle_verdict(autostop, _clocks(db), jobs, sessions, now, spm)
    return {"verdict": verdict, "idle_since": since, "deadline": deadline, "sessions": sessions,
            "autostop": autostop, "seconds_per_minute": spm}  # fmt: skip


def poweroff(config: dict[str, Any]) -> int:
    """Power every node off, the workers first, then the head (a cloud's autostop action)."""
    command = "sudo -n shutdown -h now"
    calls = [subprocess.Popen(ssh_argv(node, command), stdin=subprocess.DEVNULL)
             for node in config["nodes"][1:]]  # fmt: skip
    for call in calls:
        try:
            call.wait(timeout=60)
        except subprocess.TimeoutExpired:
            call.kill()
    return subprocess.call(command.split())


class Autostopper:
    """The daemon's autostop: each turn, notice activity; once due, probe setup, then act."""

    def __init__(self) -> None:
        self.action: subprocess.Popen[bytes] | None = None

    def step(self, db: sqlite3.Connection, config: dict[str, Any], now: float) -> str:
        if self.action is not None:
            code = self.action.poll()
            if code is None or code == 0:
                return "fired"  # the cluster is going down around us
            sys.stderr.write(f"agent: the autostop action failed (exit code {code}); "
                             "autostop counts the idle time again\n")  # fmt: skip
            self.action = None
            with Tx(db):
                touch(db, "last_busy", now)
            return "failed"
        state = autostop_state(db, config, now)
        verdict = state["verdict"]
        if verdict == "busy":
            with Tx(db):
                touch(db, "last_busy", now)
        if verdict != "due":
            return str(verdict)
        if state["autostop"].get("wait_for") != "none":
            running, ended = setup_activity(config)
            if running or ended > state["idle_since"]:
                with Tx(db):
                    touch(db, "last_busy" if running else "setup_ended", now if running else ended)
                return "busy"
        self.action = fire_autostop(config, state, now)
        with Tx(db):
            touch(db, "autostop_fired", now)
        return "fired"


def fire_autostop(
    config: dict[str, Any], state: dict[str, Any], now: float
) -> subprocess.Popen[bytes]:
    """Run the cloud's action: stop (or tear down) the cluster this agent runs on."""
    action = config.get("autostop_action") or {}
    me = {"{python}": sys.executable, "{agent}": os.path.abspath(__file__)}
    argv = [me.get(str(a), str(a)) for a in action.get("argv") or []]
    if not argv:
        raise AgentError("autostop is due but no action is configured")
    autostop = state["autostop"]
    if action.get("details"):
        minutes = (now - state["idle_since"]) / state["seconds_per_minute"]
        argv += ["--at", repr(now), "--idle-minutes", str(autostop.get("idle_minutes")),
                 "--idle-for", f"{minutes:.2f}"]  # fmt: skip
        if autostop.get("down"):
            argv.append("--down")
    env = {k: v for k, v in os.environ.items() if k not in set(action.get("unset") or ())}
    env.update({str(k): str(v) for k, v in dict(action.get("env") or {}).items()})
    verb = "autodown" if autostop.get("down") else "autostop"
    sys.stderr.write(f"agent: {verb} at {now:.0f}: idle since {state['idle_since']:.0f}; "
                     f"running {argv[0]}\n")  # fmt: skip
    sys.stderr.flush()
    return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr,
                            stderr=sys.stderr, start_new_session=True)  # fmt: skip


def _secrets_address() -> str:
    # An abstract socket (no file, no path-length limit); peers are checked by uid on accept.
    tag = hashlib.sha256(agent_dir().encode("utf-8")).hexdigest()[:24]
    return f"\0styx-agent-{tag}"


def hand_secrets(secrets: dict[str, str]) -> str:
    """Give a job's secrets to the daemon, which holds them in memory only; their token.

    Secrets never go into the database or any other file: a job whose secrets the daemon
    lost (a restart before it started) fails and says so.
    """
    token = hashlib.sha256(os.urandom(32)).hexdigest()[:32]
    data = json.dumps({"token": token, "secrets": secrets}).encode("utf-8")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(10)
            conn.connect(_secrets_address())
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
            answer = conn.recv(64)
    except OSError as exc:
        raise AgentError(f"the agent daemon did not take the job's secrets: {exc}") from None
    if answer != b"ok":
        raise AgentError("the agent daemon refused the job's secrets")
    return token


def _take_secrets(server: socket.socket, vault: dict[str, dict[str, str]]) -> None:
    try:
        conn, _addr = server.accept()
    except OSError:
        return
    with conn:
        conn.settimeout(5)
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        if uid != os.getuid():  # only the agent's own user may hand over secrets
            return
        chunks = []
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            request = json.loads(b"".join(chunks))
            vault[str(request["token"])] = {str(k): str(v) for k, v in request["secrets"].items()}
            conn.sendall(b"ok")
        except (OSError, ValueError, KeyError):
            return


def run_daemon() -> None:
    _write_private(
        _path("agent.pid"), f"{os.getpid()} {file_sha256(os.path.abspath(__file__))}\n".encode()
    )
    config = load_config()
    config_mtime = os.stat(_path("config.json")).st_mtime
    db = connect()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGUSR1, lambda _s, _f: None)
    stopping = []
    signal.signal(signal.SIGTERM, lambda _s, _f: stopping.append(True))
    spawned: dict[int, int] = {}
    vault: dict[str, dict[str, str]] = {}  # secrets by token, in memory only
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(_secrets_address())
    server.listen(16)
    server.setblocking(False)
    with Tx(db):
        touch(db, "daemon_started")
    autostopper = Autostopper()
    while not stopping:
        try:
            mtime = os.stat(_path("config.json")).st_mtime
            if mtime != config_mtime:  # setup changed the cluster (a node added, say)
                config, config_mtime = load_config(), mtime
                with Tx(db):  # a new autostop setting counts its idle time from now (SkyPilot)
                    touch(db, "configured_at")
            daemon_step(db, config, spawned, vault)
            autostopper.step(db, config, time.time())
        except sqlite3.Error as exc:  # a busy database: try again next turn
            sys.stderr.write(f"agent: {exc}\n")
        except (AgentError, OSError, ValueError) as exc:  # autostop must never kill the queue
            sys.stderr.write(f"agent: autostop: {exc}\n")
        readable, _w, _x = select.select([wake_r, server], [], [], _TICK)
        if server in readable:
            _take_secrets(server, vault)
            continue
        try:
            while os.read(wake_r, 512):
                pass
        except BlockingIOError:
            pass


def start_daemon(restart: bool) -> dict[str, Any]:
    """Start the pid-file daemon unless one runs this very file; restart it when asked or stale."""
    me = file_sha256(os.path.abspath(__file__))
    pid = _read_pid()
    running = None
    try:
        with open(_path("agent.pid"), encoding="ascii") as handle:
            parts = handle.read().split()
            running = parts[1] if len(parts) > 1 else None
    except OSError:
        pass
    if pid is not None and running == me and not restart:
        return {"started": False, "pid": pid, "sha256": me}
    if pid is not None:
        stop_daemon()
    first = os.fork()
    if first:
        os.waitpid(first, 0)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pid = _read_pid()
            if pid is not None:
                return {"started": True, "pid": pid, "sha256": me}
            time.sleep(0.02)
        raise AgentError("the agent daemon did not start; see {}".format(_path("agent.log")))
    os.setsid()
    if os.fork():
        os._exit(0)
    null = os.open(os.devnull, os.O_RDWR)
    log = os.open(_path("agent.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), "daemon"])


def stop_daemon() -> dict[str, Any]:
    pid = _read_pid()
    if pid is None:
        return {"stopped": False}
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    return {"stopped": True, "pid": pid}


def systemd_unit(python: str, agent: str, user: str, home: str) -> str:
    """The unit that runs the daemon where systemd manages services."""
    return (
        "[Unit]\n"
        "Description=Styx head-node agent (job queue)\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        f"User={user}\n"
        f"Environment=HOME={home}\n"
        f"ExecStart={python} {agent} daemon\n"
        "Restart=always\n"
        "RestartSec=2\n"
        "KillMode=process\n\n"  # jobs run in their own sessions; a restart leaves them be
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )


# ---------------------------------------------------------------------------------------------
# Reading logs


def read_logs(
    job_id: int, offsets: dict[str, int], node: str | None, complete: bool
) -> dict[str, dict[str, Any]]:
    """New log bytes per node from the given offsets; only whole lines unless `complete`."""
    folder = _path("logs", str(job_id))
    out = {}
    files = os.listdir(folder) if os.path.isdir(folder) else []
    names = sorted(f[:-4] for f in files if f.endswith(".log"))
    for name in names:
        if node is not None and name != node:
            continue
        start = int(offsets.get(name, 0))
        with open(os.path.join(folder, name + ".log"), "rb") as handle:
            handle.seek(start)
            data = handle.read(_LOG_CHUNK)
        more = len(data) >= _LOG_CHUNK  # a whole chunk read: the file may go on
        if not complete and not more:
            cut = data.rfind(b"\n") + 1
            data = data[:cut]
        out[name] = {"text": data.decode("utf-8", errors="replace"), "offset": start + len(data),
                     "more": more}  # fmt: skip
    return out


def follow_logs(
    db: sqlite3.Connection, job_id: int, node: str | None, offsets: dict[str, int]
) -> None:
    """JSON lines {"node", "text"} as the logs grow, then {"end": job} once the job has ended."""
    while True:
        row = get_job(db, job_id)
        done = row["state"] in TERMINAL
        while True:
            chunk = read_logs(job_id, offsets, node, done)
            moved = False
            for name, part in sorted(chunk.items()):
                if part["text"]:
                    _emit({"node": name, "text": part["text"]})
                    moved = True
                offsets[name] = part["offset"]
            if not moved:
                break
        if done:
            _emit({"end": job_record(db, get_job(db, job_id)), "offsets": offsets})
            return
        time.sleep(0.1)


def _emit(document: object) -> None:
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------------
# The command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="styx-agent")
    sub = parser.add_subparsers(dest="command")
    for name in ("version", "configure", "status", "stop", "activity", "launch",
                 "poweroff", "autostop"):
        sub.add_parser(name).add_argument("--json", action="store_true")
    submit = sub.add_parser("submit")
    submit.add_argument("--json", action="store_true")
    # Queue only if the running daemon was started from this file's version: the client's
    # version check and its submit in one SSH round trip. An agent older than this flag
    # rejects it (a usage error), which the client reads as "outdated" too.
    submit.add_argument("--expect-daemon", metavar="SHA256")
    start = sub.add_parser("start")
    start.add_argument("--json", action="store_true")
    start.add_argument("--restart", action="store_true")
    sub.add_parser("daemon")  # the loop, in the foreground (systemd runs it so)
    sup = sub.add_parser("supervise")
    sup.add_argument("job", type=int)
    queue = sub.add_parser("queue")
    queue.add_argument("--json", action="store_true")
    queue.add_argument("jobs", type=int, nargs="*")
    logs = sub.add_parser("logs")
    logs.add_argument("--json", action="store_true")
    logs.add_argument("job", type=int)
    logs.add_argument("--node")
    logs.add_argument("--offsets", default="{}")
    logs.add_argument("--follow", action="store_true")
    cancel = sub.add_parser("cancel")
    cancel.add_argument("--json", action="store_true")
    cancel.add_argument("jobs", type=int, nargs="*")
    cancel.add_argument("--all", action="store_true")
    wait = sub.add_parser("wait")
    wait.add_argument("--json", action="store_true")
    wait.add_argument("job", type=int)
    wait.add_argument("--timeout", type=float, default=0.0)
    kill = sub.add_parser("kill")
    kill.add_argument("--json", action="store_true")
    kill.add_argument("--marker", required=True)
    unit = sub.add_parser("systemd-unit")
    unit.add_argument("--user", required=True)
    return parser


def cancel_jobs(
    db: sqlite3.Connection, config: dict[str, Any], ids: list[int], every: bool
) -> list[int]:
    """Cancel jobs: pending ones never start; active ones are killed on each of their nodes."""
    if every:
        ids = [r["id"] for r in db.execute(
            "SELECT id FROM jobs WHERE state NOT IN "
            "('SUCCEEDED', 'FAILED', 'CANCELLED', 'FAILED_SETUP')"
        )]  # fmt: skip
    cancelled = []
    for job_id in ids:
        row = get_job(db, job_id)
        if row["state"] in TERMINAL:
            continue
        # Mark first: a supervisor finishing meanwhile must not report the kill as a failure.
        if not finish_job(db, job_id, "CANCELLED", "cancelled", time.time()):
            continue
        kill_on(config, json.loads(row["nodes"] or "[]"), job_marker(config, job_id))
        cancelled.append(job_id)
    _wake_daemon()
    return cancelled


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command
    try:
        if command == "launch":
            return launch()
        if command == "kill":
            _emit({"killed": kill_job(args.marker)})
            return 0
        if command == "daemon":
            run_daemon()
            return 0
        if command == "supervise":
            supervise(args.job)
            return 0
        if command == "version":
            _emit({"version": AGENT_VERSION, "sha256": file_sha256(os.path.abspath(__file__)),
                   "python": sys.version.split()[0]})  # fmt: skip
            return 0
        if command == "systemd-unit":
            sys.stdout.write(systemd_unit(sys.executable, os.path.abspath(__file__), args.user,
                                          os.path.expanduser("~")))  # fmt: skip
            return 0
        _ensure_dir(agent_dir())
        if command == "configure":
            request = json.loads(sys.stdin.read())
            _write_private(_path("cluster_key"), request.pop("private_key").encode("utf-8"))
            _write_private(_path("known_hosts"), request.pop("known_hosts").encode("utf-8"))
            _write_private(_path("config.json"), json.dumps(request, indent=1).encode("utf-8"))
            _emit({"configured": True})
            return 0
        if command == "start":
            _emit(start_daemon(args.restart))
            return 0
        if command == "stop":
            _emit(stop_daemon())
            return 0
        if command == "submit" and args.expect_daemon:
            pid = _read_pid()
            daemon = _daemon_sha() if pid is not None else None
            if daemon != args.expect_daemon:
                _emit({"outdated": True, "running": pid is not None, "daemon_sha256": daemon})
                return 0
        config = load_config()
        db = connect()
        if command == "status":
            pid = _read_pid()
            _emit({"running": pid is not None, "pid": pid,
                   "sha256": file_sha256(os.path.abspath(__file__)),
                   "daemon_sha256": _daemon_sha() if pid is not None else None})  # fmt: skip
        elif command == "poweroff":
            return poweroff(config)
        elif command == "submit":
            job_id = submit_job(db, config, json.loads(sys.stdin.read()), time.time())
            _wake_daemon()
            _emit({"id": job_id})
        elif command == "queue":
            if args.jobs:
                rows = [get_job(db, j) for j in args.jobs]
            else:
                rows = db.execute("SELECT * FROM jobs ORDER BY id").fetchall()
            _emit({"jobs": [job_record(db, r) for r in rows], "daemon": _read_pid() is not None})
        elif command == "logs":
            get_job(db, args.job)
            offsets = json.loads(args.offsets)
            if args.follow:
                follow_logs(db, args.job, args.node, offsets)
            else:
                done = get_job(db, args.job)["state"] in TERMINAL
                nodes = read_logs(args.job, offsets, args.node, True)
                # "more": some log was cut at the chunk size; without it, once the job has
                # ended, this answer holds everything and the reader needs no second call.
                more = any(part["more"] for part in nodes.values())
                _emit({"nodes": nodes, "state": get_job(db, args.job)["state"], "ended": done,
                       "more": more})  # fmt: skip
        elif command == "cancel":
            _emit({"cancelled": cancel_jobs(db, config, list(args.jobs), args.all)})
        elif command == "wait":
            deadline = time.monotonic() + args.timeout if args.timeout else None
            while get_job(db, args.job)["state"] not in TERMINAL:
                if deadline is not None and time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            _emit(job_record(db, get_job(db, args.job)))
        elif command == "activity":
            values = {r["key"]: r["value"] for r in db.execute("SELECT * FROM activity")}
            values["jobs_active"] = db.execute(
                "SELECT COUNT(*) FROM jobs WHERE state IN (?, ?)", ACTIVE
            ).fetchone()[0]
            values["jobs_pending"] = db.execute(
                "SELECT COUNT(*) FROM jobs WHERE state = 'PENDING'"
            ).fetchone()[0]
            _emit(values)
        elif command == "autostop":
            _emit(autostop_state(db, config, time.time()))
        else:
            _parser().print_usage(sys.stderr)
            return 2
    except AgentError as exc:
        _emit({"error": str(exc)})
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
