"""Set a cluster's nodes up with playbooks/setup.yml, skipping nodes whose setup is current."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from styx.clouds import cloud_named
from styx.home import write_private
from styx.nodes._buckets import fetch_buckets, storage_script
from styx.nodes._digest import make_bundle, setup_digest, sync_script
from styx.nodes._env import check_names, setup_environment
from styx.nodes._inventory import HostEntry, render_known_hosts
from styx.nodes._model import (
    ClusterAccess,
    NodeSetupResult,
    NodeWork,
    PlaybookResult,
    ProgressEvent,
    SetupStatus,
    reveal,
)
from styx.nodes._runner import (
    AnsibleEvent,
    PlaybookRun,
    finish_run_dir,
    known_hosts_path,
    new_run_dir,
    run_playbook,
)
from styx.nodes._secrets import SecretMask, export_lines
from styx.nodes._ssh import host_key_refused, ssh_argv, ssh_cause
from styx.nodes._stream import NodeStreams, progress_of, result_message

__all__ = ["NodeRecord", "read_node_records", "recorded_setup_digests", "run_setup"]

_DECIDE = "Decide whether setup must run"
_RUN = "Run setup"
_CHECK = "Check the setup exit code"


def _digest_dir(cluster: ClusterAccess) -> Path:
    return cluster.state_dir / "setup"


def recorded_setup_digests(state_dir: Path) -> dict[str, str]:
    """Per node, the digest of the last setup that succeeded there (as far as Styx saw)."""
    folder = state_dir / "setup"
    if not folder.is_dir():
        return {}
    return {p.stem: p.read_text(encoding="ascii").strip() for p in sorted(folder.glob("*.digest"))}


@dataclass(frozen=True)
class NodeRecord:
    """What a node itself says of its setup (~/.styx/setup.outcome and setup.digest).

    status: ok | failed | running | interrupted | none (never attempted) | unreachable, or
    host-key when ssh refused the node because its host key is not the recorded one.
    `message` says why a node could not be read, in one line naming it.
    """

    status: str
    digest: str = ""  # the inputs of the last attempt
    ok_digest: str = ""  # the inputs of the last setup that succeeded there
    message: str = ""


# The node's record, read and judged on the node: an attempt still marked "started" has
# ended if its exit code is there, runs if its wrapper's pid lives, else was cut short.
_READ_RECORD = r"""
cd "$HOME/.styx" 2>/dev/null || { echo none; exit 0; }
set -- $(cat setup.outcome 2>/dev/null); st=${1:-none}; dg=${2:-}; run=${3:-x}
ok=$(cat setup.digest 2>/dev/null)
if [ "$st" = started ]; then
  if [ -f "setup/$run/exit_code" ]; then
    [ "$(cat "setup/$run/exit_code")" = 0 ] && st=ok || st=failed
  elif [ -s "setup/$run/pid" ] && kill -0 "$(cat "setup/$run/pid")" 2>/dev/null; then
    st=running
  else st=interrupted; fi
fi
echo "$st $dg $ok"
"""


def read_node_records(cluster: ClusterAccess) -> dict[str, NodeRecord]:
    """Per node, its own setup record over SSH (all nodes at once)."""
    with tempfile.TemporaryDirectory(dir=cluster.state_dir.parent) as tmp:
        known_hosts = Path(tmp) / "known_hosts"
        known_hosts.write_text(render_known_hosts(cluster), encoding="utf-8")

        def read(node: Any) -> NodeRecord:
            try:
                done = subprocess.run(
                    ssh_argv(cluster, node, known_hosts, _READ_RECORD),
                    stdin=subprocess.DEVNULL, capture_output=True, text=True,
                    errors="replace", timeout=60, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                return NodeRecord("unreachable", message=f"no answer from {node.name} within 60s")
            words = done.stdout.split()
            if done.returncode != 0 or not words:
                why = done.stderr.strip() or f"ssh exited with code {done.returncode}"
                status = "host-key" if host_key_refused(why) else "unreachable"
                return NodeRecord(status, message=ssh_cause(node.name, why))
            if words[0] == "none":
                return NodeRecord("none")
            digest = words[1] if len(words) > 1 else ""
            ok = words[2] if len(words) > 2 else ""
            if words[0] == "ok" and not ok:
                ok = digest
            return NodeRecord(words[0], digest, ok)

        cluster.state_dir.parent.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(max_workers=min(16, len(cluster.nodes))) as pool:
            records = list(pool.map(read, cluster.nodes))
    return {node.name: record for node, record in zip(cluster.nodes, records, strict=True)}


class _Tracker:
    """Reads the setup's per-node outcome out of the playbook's events."""

    def __init__(self, streams: NodeStreams, cluster: ClusterAccess,
                 on_event: Callable[[ProgressEvent], None], mask: SecretMask) -> None:  # fmt: skip
        self.streams = streams
        self.mask = mask  # what a task printed reaches the terminal with secrets masked
        self.cluster = cluster
        self.on_event = on_event
        self.needed: dict[str, bool] = {}
        self.ran: set[str] = set()
        self.finished: set[str] = set()
        self.failed: dict[str, tuple[str, str]] = {}
        self.unreachable: dict[str, str] = {}

    def __call__(self, event: AnsibleEvent) -> None:
        progress = progress_of(event, self.mask)
        if progress is not None and progress.status == "unreachable" and progress.node:
            progress = replace(progress, message=ssh_cause(progress.node, progress.message))
        if progress is not None:
            self.on_event(progress)
        host, task = event.host, event.task
        if host is None:
            return
        if event.kind == "runner_on_start" and task == _RUN:
            self.streams.start(self.cluster.node(host))
        elif event.kind == "runner_on_ok" and task == _DECIDE:
            facts = event.result.get("ansible_facts") or {}
            self.needed[host] = str(facts.get("styx_setup_needed", True)).strip() != "False"
        elif event.kind == "runner_on_ok" and task == _RUN:
            self.ran.add(host)
            self.finished.add(host)
        elif event.kind == "runner_on_failed" and not event.ignore_errors and task:
            # The check task only turns Run setup's (hidden) exit code into a message.
            message = result_message(event.result, self.mask)
            self.failed[host] = (_RUN if task == _CHECK else task, message)
            if task == _CHECK and message.startswith("setup exited with code"):
                self.finished.add(host)  # the wrapper ran, so its log is complete
        elif event.kind == "runner_on_unreachable":
            self.unreachable[host] = ssh_cause(host, result_message(event.result, self.mask))


def run_setup(
    cluster: ClusterAccess,
    work: NodeWork,
    on_event: Callable[[ProgressEvent], None],
    *,
    force: bool = False,
) -> PlaybookResult:
    """Sync workdir and file mounts and run setup on every node whose setup digest changed.

    Setup's output streams to on_event as "output" events, node by node; every node's log is
    kept under state_dir/logs/<run id>/. With force, setup runs on every node regardless.
    """
    check_names(list(work.envs), "env")
    check_names(list(work.secrets), "secret")
    # Checked at plan time too; here it guards any caller that skipped the plan.
    cloud = cloud_named(cluster.cloud)
    cloud.check_file_mounts([*work.file_mounts, *work.storage])
    digest = setup_digest(work)
    run_id, run_dir = new_run_dir(cluster, "setup")
    secrets = {name: reveal(value) for name, value in work.secrets.items()}
    bundle, sync, storage = "", "", ""
    shipped = dict(work.file_mounts)
    if work.storage and cloud.fetches_buckets_here:
        try:
            shipped.update(fetch_buckets(work.storage, run_dir / "buckets"))
        except BaseException:
            finish_run_dir(run_dir, failed=True)
            raise
    elif work.storage:
        storage = storage_script(work.storage)
    if work.workdir is not None or shipped:
        bundle_path = run_dir / "bundle.tar.gz"
        mounts = make_bundle(replace(work, file_mounts=shipped), bundle_path)
        bundle, sync = str(bundle_path), sync_script(work.workdir is not None, mounts)
        # The bundle holds them now; a copy of a dataset must not outlive it in a kept run dir.
        shutil.rmtree(run_dir / "buckets", ignore_errors=True)
    variables: dict[str, Any] = {
        "styx_run_id": run_id,
        "styx_setup_digest": digest,
        "styx_force": force,
        "styx_setup": work.setup or "",
        "styx_bundle": bundle,
        "styx_sync": sync,
        "styx_storage": storage,
        "styx_cwd": "sky_workdir" if work.workdir is not None else "",
    }
    hosts = tuple(
        HostEntry.of(node, setup_environment(cluster, node, work.envs, work.task_id))
        for node in cluster.nodes
    )
    streams = NodeStreams(
        cluster,
        known_hosts_path(run_dir),
        f".styx/setup/{run_id}",
        cluster.state_dir / "logs" / run_id,
        lambda node, line: on_event(
            ProgressEvent(node=node, task=_RUN, status="output", message=line)
        ),
        hidden=secrets.values(),
    )
    tracker = _Tracker(streams, cluster, on_event, SecretMask(secrets.values()))
    run = PlaybookRun("setup.yml", cluster, run_dir, hosts, variables, export_lines(secrets))
    try:
        outcome = run_playbook(run, tracker, list(secrets.values()))
    except BaseException:
        finish_run_dir(run_dir, failed=True)
        raise
    finally:
        whole = streams.finish(tracker.finished)
        for archive in run_dir.glob("*.tar.gz"):
            archive.unlink()
    results = []
    for node in cluster.nodes:
        name = node.name
        status: SetupStatus
        failed_task = message = None
        log = None
        if name in tracker.unreachable:
            status, message = "unreachable", tracker.unreachable[name]
        elif name in tracker.failed:
            status = "failed"
            failed_task, message = tracker.failed[name]
        elif not tracker.needed.get(name, True):
            status = "unchanged"
        elif name in tracker.ran:
            status = "ran"
        else:
            status = "failed"
            message = outcome.reason() if outcome.rc else "setup did not finish"
        if name in whole or (status == "failed" and failed_task == _RUN):
            log = streams.complete_log(node, whole.get(name, False))
        if status == "ran":
            write_private(_digest_dir(cluster) / f"{name}.digest", digest + "\n")
        results.append(
            NodeSetupResult(
                node=name,
                status=status,
                failed_task=failed_task,
                message=message,
                log_path=log.path if log else None,
                last_lines=log.last_lines if log and status == "failed" else (),
            )
        )
    result = PlaybookResult(run_id=run_id, digest=digest, nodes=tuple(results), private_dir=run_dir)
    finish_run_dir(run_dir, failed=not result.ok)
    return result
