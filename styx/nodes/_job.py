"""Run a task's job on every node at once with playbooks/run.yml; exit code and log per node."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from styx.errors import NodeError
from styx.nodes._env import check_names, job_environment
from styx.nodes._inventory import HostEntry
from styx.nodes._model import (
    ClusterAccess,
    JobResult,
    NodeJobResult,
    NodeWork,
    ProgressEvent,
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
from styx.nodes._secrets import export_lines
from styx.nodes._stream import NodeStreams, progress_of, result_message

__all__ = ["run_job"]

_RUN = "Run the job"
_EXIT = "Record the exit code"
_JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")


class _Tracker:
    """Reads each node's exit code (or why it has none) out of the playbook's events."""

    def __init__(
        self,
        streams: NodeStreams,
        cluster: ClusterAccess,
        on_event: Callable[[ProgressEvent], None] | None,
    ) -> None:
        self.streams = streams
        self.cluster = cluster
        self.on_event = on_event
        self.exit_codes: dict[str, int] = {}
        self.errors: dict[str, str] = {}

    def __call__(self, event: AnsibleEvent) -> None:
        if self.on_event is not None:
            progress = progress_of(event)
            if progress is not None:
                self.on_event(progress)
        host = event.host
        if host is None:
            return
        if event.kind == "runner_on_start" and event.task == _RUN:
            self.streams.start(self.cluster.node(host))
        elif event.kind == "runner_on_ok" and event.task == _EXIT:
            facts = event.result.get("ansible_facts") or {}
            text = str(facts.get("styx_exit_code", "")).strip()
            if text.lstrip("-").isdigit():
                self.exit_codes[host] = int(text)
            else:
                why = str(facts.get("styx_job_error", "")).strip().splitlines()
                self.errors[host] = (
                    f"could not run the job: {why[-1] if why else 'no reason given'}"
                )
        elif event.kind == "runner_on_unreachable":
            self.errors[host] = f"unreachable: {result_message(event.result)}"
        elif event.kind == "runner_on_failed" and not event.ignore_errors:
            self.errors[host] = f"{event.task}: {result_message(event.result)}"


def run_job(
    cluster: ClusterAccess,
    work: NodeWork,
    on_output: Callable[[str, str], None],
    *,
    job_id: str | None = None,
    on_event: Callable[[ProgressEvent], None] | None = None,
) -> JobResult:
    """Run `work.run` on every node at once; each output line goes to on_output(node, line).

    Lines arrive as the nodes print them, known secret values masked. Logs are kept in
    state_dir/logs/<job id>/<node>.log; the run's private folder (result.private_dir) is
    removed when Ansible ran the job everywhere, and kept when it failed (retention.py).
    A failing node does not stop the others; the result holds every node's exit code.
    """
    if not work.run:
        raise NodeError("the task has no run command")
    if job_id is not None and not _JOB_ID.match(job_id):
        raise NodeError(f"job id {job_id!r} must be letters, digits, '-', '_' or '.'")
    check_names(list(work.envs), "env")
    check_names(list(work.secrets), "secret")
    try:
        run_id, run_dir = new_run_dir(cluster, "job", job_id)
    except NodeError as exc:
        raise NodeError(f"job {job_id} already ran on cluster {cluster.cluster}") from exc
    secrets = {name: reveal(value) for name, value in work.secrets.items()}
    variables: dict[str, Any] = {
        "styx_job_id": run_id,
        "styx_run": work.run,
        "styx_cwd": "sky_workdir" if work.workdir is not None else "",
    }
    hosts = tuple(
        HostEntry.of(node, job_environment(cluster, node, work.envs, work.task_id, run_id))
        for node in cluster.nodes
    )
    log_dir = cluster.state_dir / "logs" / run_id
    streams = NodeStreams(
        cluster,
        known_hosts_path(run_dir),
        f".styx/jobs/{run_id}",
        log_dir,
        on_output,
        hidden=secrets.values(),
    )
    tracker = _Tracker(streams, cluster, on_event)
    run = PlaybookRun("run.yml", cluster, run_dir, hosts, variables, export_lines(secrets))
    try:
        outcome = run_playbook(run, tracker, list(secrets.values()))
    except BaseException:
        finish_run_dir(run_dir, failed=True)  # kept: the artifacts say what went wrong
        raise
    finally:
        # Only a node with an exit code ran its wrapper; the others' tails would wait in vain.
        whole = streams.finish(set(tracker.exit_codes))
    results = []
    for node in cluster.nodes:
        code = tracker.exit_codes.get(node.name)
        log = streams.complete_log(node, whole.get(node.name, False))
        error = tracker.errors.get(node.name)
        if code is None and error is None:
            error = outcome.reason() if outcome.rc else "the job did not run"
        results.append(
            NodeJobResult(
                node=node.name,
                rank=node.rank,
                exit_code=code,
                log_path=log.path,
                last_lines=log.last_lines if code != 0 else (),
                error=error if code is None else None,
            )
        )
    result = JobResult(job_id=run_id, nodes=tuple(results), log_dir=log_dir, private_dir=run_dir)
    # A job whose command failed is the user's failure, with its logs; the run folder (Ansible's
    # artifacts) is kept only when Ansible could not run it everywhere.
    finish_run_dir(run_dir, failed=bool(outcome.rc) or any(n.error for n in results))
    return result
