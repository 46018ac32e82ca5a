"""Run one playbook with ansible-runner: a private data dir per run, events out, nothing left over.

The run's folder holds the inventory, known_hosts, vars, ansible.cfg, Ansible's own home and
temp dirs and the SSH control sockets, so nothing lands in the user's home, and the SSH
masters Ansible leaves behind are closed before we return. ansible-playbook runs under
Styx's supervisor (styx/_supervise.py): it ends with Styx, even killed, and takes its workers
and ssh masters with it (they are found by the tag the supervisor gives their environment).
"""

from __future__ import annotations

import os
import secrets as random
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ansible_runner import Runner, RunnerConfig
from ansible_runner.exceptions import AnsibleRunnerException

from styx import _interrupts, _supervise
from styx._resources import data_path
from styx.errors import NodeError
from styx.home import private_dir
from styx.nodes._inventory import HostEntry, render_inventory, render_known_hosts, render_vars
from styx.nodes._model import ClusterAccess
from styx.nodes._secrets import secret_fifo
from styx.nodes._ssh import close_masters, ssh_options
from styx.retention import (
    RetentionPolicy,
    hold_run,
    mark_failed,
    prune_runs,
    release_run,
    remove,
    sweep,
)

__all__ = [
    "AnsibleEvent",
    "PlaybookRun",
    "RunnerOutcome",
    "finish_run_dir",
    "new_run_dir",
    "run_playbook",
]

# Unix socket paths hold 108 bytes; ssh adds a 10-character hash and, while binding, a
# 17-character temporary suffix. Longer control folders get no connection sharing at all.
_MAX_CONTROL_DIR = 108 - 1 - 11 - 17 - 2

# What ansible-playbook needs from our environment; the rest (cloud credentials, a secret
# the user exported) stays out, since ansible-runner writes the environment to its artifacts.
_KEEP_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ")
_KEEP_PREFIXES = ("ANSIBLE_", "RUNNER_", "AWX_")
# Run folders this process has open, with the descriptor that marks each as going on.
_ACTIVE_RUNS: dict[Path, int] = {}


@dataclass(frozen=True)
class AnsibleEvent:
    """One ansible-runner event, reduced to what Styx reads."""

    kind: str
    host: str | None
    task: str | None
    result: Mapping[str, Any]
    ignore_errors: bool = False

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> AnsibleEvent:
        data = raw.get("event_data") or {}
        result = data.get("res")
        return cls(
            kind=str(raw.get("event", "")),
            host=data.get("host") or data.get("remote_addr"),
            task=data.get("task"),
            result=result if isinstance(result, Mapping) else {},
            ignore_errors=bool(data.get("ignore_errors")),
        )


@dataclass(frozen=True)
class PlaybookRun:
    """Everything one playbook run needs. `secret_exports` travel only through a FIFO."""

    playbook: str
    cluster: ClusterAccess
    run_dir: Path
    hosts: tuple[HostEntry, ...]
    variables: Mapping[str, Any]
    secret_exports: str = ""


@dataclass(frozen=True)
class RunnerOutcome:
    """How ansible-playbook ended (per-node results come from the events).

    `tail` holds the last lines Ansible printed when it failed, for a node that has no
    result of its own (a playbook that did not even start, say).
    """

    status: str
    rc: int
    run_dir: Path
    tail: tuple[str, ...] = ()

    def reason(self) -> str:
        last = self.tail[-1] if self.tail else f"status {self.status}, exit code {self.rc}"
        return f"ansible-playbook failed: {last}"


def new_run_dir(cluster: ClusterAccess, kind: str, run_id: str | None = None) -> tuple[str, Path]:
    """A fresh run id and its private data dir under the stack's folder.

    The folder is marked as a run going on until `finish_run_dir`, so no sweep removes it.
    """
    run_id = run_id or f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{random.token_hex(3)}"
    runs = private_dir(cluster.state_dir / "runs")
    run_dir = runs / run_id
    taken = NodeError(f"run {run_id} already exists on cluster {cluster.cluster}")
    # A run that ended well leaves its logs, not its folder: both say the id is taken.
    if (cluster.state_dir / "logs" / run_id).exists():
        raise taken
    try:
        run_dir.mkdir(mode=0o700)
    except FileExistsError:
        raise taken from None
    _ACTIVE_RUNS[run_dir] = hold_run(run_dir)
    return run_id, run_dir


def finish_run_dir(run_dir: Path, *, failed: bool) -> None:
    """End a run: its folder goes unless it failed; failed ones are kept, the newest few.

    Logs are kept elsewhere (state_dir/logs); the folder holds Ansible's artifacts, which
    only a failure makes worth reading.
    """
    held = _ACTIVE_RUNS.pop(run_dir, None)
    if failed:
        mark_failed(run_dir)
    if held is not None:
        release_run(held)
    if not failed:
        shutil.rmtree(run_dir, ignore_errors=True)
    policy = RetentionPolicy.from_env()
    remove(prune_runs(run_dir.parent, policy.failed_runs))
    sweep(policy)  # the rest of the policy, while we are here (listings and file times only)


def known_hosts_path(run_dir: Path) -> Path:
    return run_dir / "known_hosts"


def _ansible_bin() -> Path:
    # The ansible installed beside this Python, even when its bin folder is not on PATH.
    here = Path(sys.executable).parent / "ansible-playbook"
    if here.exists():
        return here.parent
    found = shutil.which("ansible-playbook")
    if found is None:
        raise NodeError("ansible-playbook is not installed (pip install ansible-core)")
    return Path(found).parent


def _ansible_cfg(run: PlaybookRun, control_dir: Path | None) -> str:
    known_hosts = known_hosts_path(run.run_dir)
    ssh_args = " ".join(
        f"'{arg}'" if " " in arg else arg for arg in ssh_options(run.cluster, known_hosts)
    )
    if control_dir is not None:
        sharing = "-o ControlMaster=auto -o ControlPersist=60s"
        control = f"control_path_dir = {control_dir}\n"
    else:
        sharing = "-o ControlMaster=no -o ControlPath=none"
        control = ""
    ansible_home = run.run_dir / "ansible"
    return (
        "# Ansible settings for one Styx run; nothing is read from ~ or from /etc/ansible.\n"
        "[defaults]\n"
        f"home = {ansible_home}\n"
        f"local_tmp = {ansible_home / 'tmp'}\n"
        "host_key_checking = True\n"
        "retry_files_enabled = False\n"
        "interpreter_python = auto_silent\n"
        "gathering = explicit\n"
        f"forks = {max(1, len(run.hosts))}\n"
        "timeout = 30\n"
        "nocows = True\n"
        "\n[ssh_connection]\n"
        # Pipelining sends modules over ssh's stdin, piped transfers over `dd`: no sftp needed.
        "pipelining = True\n"
        "transfer_method = piped\n"
        f"ssh_args = {ssh_args} {sharing}\n"
        f"{control}"
    )


def _environment(
    config_env: Mapping[str, str], ours: Mapping[str, str], hidden: list[str]
) -> dict[str, str]:
    env = {
        key: value
        for key, value in config_env.items()
        if key in _KEEP_ENV or key.startswith(_KEEP_PREFIXES) or key in ours
    }
    # An inherited ANSIBLE_* setting (say, host key checking off) must not override ours.
    for key in list(env):
        if key.startswith("ANSIBLE_") and key not in ours and os.environ.get(key) == env[key]:
            del env[key]
    env.update(ours)
    # Whole values only: a secret "True" must not take ANSIBLE_HOST_KEY_CHECKING=True with
    # it. Ours never hold a secret, so they always stay.
    secret = {h for h in hidden if h}
    return {k: v for k, v in env.items() if k in ours or v not in secret}


def run_playbook(
    run: PlaybookRun,
    on_event: Callable[[AnsibleEvent], None],
    hidden_values: list[str],
) -> RunnerOutcome:
    """Run `playbooks/<run.playbook>` on the cluster; every event goes to on_event.

    hidden_values are secret values: no environment variable holding one reaches the run.
    """
    run_dir = run.run_dir
    known_hosts_path(run_dir).write_text(render_known_hosts(run.cluster), encoding="utf-8")
    inventory = run_dir / "inventory.yml"
    inventory.write_text(render_inventory(run.cluster, list(run.hosts)), encoding="utf-8")
    control_dir: Path | None = None
    if len(str(run_dir / "cp")) <= _MAX_CONTROL_DIR:
        control_dir = run_dir / "cp"
        control_dir.mkdir(mode=0o700, exist_ok=True)
    (run_dir / "ansible" / "tmp").mkdir(parents=True, exist_ok=True)
    config = run_dir / "ansible.cfg"
    config.write_text(_ansible_cfg(run, control_dir), encoding="utf-8")
    bin_dir = _ansible_bin()

    def handle(raw: dict[str, Any]) -> bool:
        _interrupts.raise_if_pending()  # a Ctrl-C dropped while ansible-runner forked
        on_event(AnsibleEvent.of(raw))
        return True  # keep the event in the run's artifacts (no_log tasks are censored there)

    try:
        with secret_fifo(run_dir, run.secret_exports) as fifo:
            variables = {**run.variables, "styx_secrets_fifo": str(fifo) if fifo else ""}
            vars_file = run_dir / "vars.yml"
            vars_file.write_text(render_vars(variables), encoding="utf-8")
            ours = {
                "ANSIBLE_CONFIG": str(config),
                "ANSIBLE_HOST_KEY_CHECKING": "True",
                "ANSIBLE_NOCOLOR": "1",
                "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            }
            rc = RunnerConfig(
                private_data_dir=str(run_dir),
                playbook=str(data_path("playbooks", run.playbook)),
                inventory=str(inventory),
                envvars=ours,
                cmdline=f"-e {shlex.quote(f'@{vars_file}')}",
                forks=max(1, len(run.hosts)),
                quiet=True,
                suppress_env_files=True,
                # Facts stay in memory: a cached fact file could hold what set_fact received.
                fact_cache_type="memory",
                ident="ansible",
            )
            try:
                rc.prepare()
                rc.env = _environment(rc.env, ours, hidden_values)
                rc.command = [
                    sys.executable, "-I", "-S", str(Path(_supervise.__file__).resolve()),
                    "--grace", "5", "--", *rc.command,
                ]  # fmt: skip
                status, code = Runner(config=rc, event_handler=handle).run()
                _interrupts.raise_if_pending()
            except (AnsibleRunnerException, OSError) as exc:
                raise NodeError(f"ansible-runner could not run {run.playbook}: {exc}") from exc
            except BaseException:
                # Interrupted: ansible-runner leaves ansible-playbook running; its supervisor
                # stops it and everything it started.
                _supervise.stop_supervised_children(signal.SIGTERM)
                raise
    finally:
        if control_dir is not None:
            close_masters(control_dir)
            shutil.rmtree(control_dir, ignore_errors=True)
    code = int(code if code is not None else 1)
    return RunnerOutcome(str(status), code, run_dir, _output_tail(run_dir) if code else ())


def _output_tail(run_dir: Path, lines: int = 5) -> tuple[str, ...]:
    try:
        text = (run_dir / "artifacts" / "ansible" / "stdout").read_text(errors="replace")
    except OSError:
        return ()
    return tuple(line for line in text.splitlines() if line.strip())[-lines:]
