"""Version records: the task round-trips exactly, storage on a file backend, history joins."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from styx.engine import EngineUpdate, StackRef
from styx.errors import StyxError
from styx.spec import load_task
from styx.workflow import (
    VersionRecord,
    diff_records,
    list_records,
    read_record,
    spec_from_task,
    task_yaml,
)
from styx.workflow._history import history_entries
from styx.workflow._records import finished_record, write_record

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

RICH = """\
name: rich
num_nodes: 3
resources:
  cloud: aws
  region: us-east-1
  cpus: 4+
  memory: 16+
  accelerators: [V100:1, A100:0.5]
  use_spot: true
  disk_size: 128
  disk_tier: high
  ports: [8080, "9000-9010"]
  labels: {team: ml}
  autostop: {idle_minutes: 10, down: true, wait_for: jobs}
envs:
  MODE: fast
secrets:
  TOKEN: null
workdir: .
file_mounts:
  /data: .
setup: |
  echo setup
run: |
  echo run
"""


def _record(version: int, task: dict, **fields: object) -> VersionRecord:  # type: ignore[type-arg]
    base = VersionRecord(version=version, kind="apply", task=task, spec_hash=f"h{version}",
                         graph={}, who="ann@box", started_at="2026-01-01T00:00:00+0000")
    return replace(base, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["hello.yaml", "aws_cpu.yaml", "aws_gpu_multinode.yaml",
                                  "train_multinode.yaml"])
def test_an_example_task_comes_back_from_its_record_with_the_same_fingerprint(name: str) -> None:
    spec = load_task(EXAMPLES / name)
    back = spec_from_task(spec.to_dict(), {k: s.reveal() for k, s in spec.secrets.items()})
    assert back.fingerprint() == spec.fingerprint()
    assert back == spec


def test_every_field_comes_back_and_secrets_only_by_name(tmp_path: Path) -> None:
    task = tmp_path / "rich.yaml"
    task.write_text(RICH)
    spec = load_task(task, secret_overrides={"TOKEN": "v4lue"})
    recorded = spec.to_dict()
    assert "v4lue" not in str(recorded)
    back = spec_from_task(recorded, {"TOKEN": "v4lue"})
    assert back == spec and back.fingerprint() == spec.fingerprint()
    # Another value is another task: the fingerprint follows the secret without showing it.
    assert spec_from_task(recorded, {"TOKEN": "other"}).fingerprint() != spec.fingerprint()
    with pytest.raises(StyxError, match="TOKEN"):
        spec_from_task(recorded, {})


def test_the_shown_task_loads_back_as_the_same_task(tmp_path: Path) -> None:
    task = tmp_path / "rich.yaml"
    task.write_text(RICH)
    spec = load_task(task, secret_overrides={"TOKEN": "v4lue"})
    shown = task_yaml(_record(1, spec.to_dict()))
    assert "TOKEN: null" in shown and "v4lue" not in shown
    again = tmp_path / "again.yaml"
    again.write_text(shown)
    reloaded = load_task(again, secret_overrides={"TOKEN": "v4lue"})
    assert reloaded.fingerprint() == spec.fingerprint()


def test_records_are_stored_per_version_in_a_file_backend(tmp_path: Path) -> None:
    ref = StackRef("styx", "c1", (tmp_path / "state").as_uri())
    assert list_records(ref) == {}
    assert read_record(ref, 1) is None
    first = _record(1, {"secrets": {}})
    write_record(ref, first)
    write_record(ref, finished_record(_record(2, {}), "failed", {"worker1": ("failed", "x")}))
    stored = list_records(ref)
    assert list(stored) == [1, 2]
    assert stored[1] == first
    assert stored[2].describe_result() == "failed at setup on worker1"
    assert (tmp_path / "state/.styx/styx/c1/versions/00000002.json").is_file()
    assert first.describe_result().startswith("setup did not finish")


def test_history_joins_engine_updates_with_records() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    updates = (
        EngineUpdate(1, "update", "succeeded", "", t0, t0),
        EngineUpdate(2, "update", "failed", "", t0, t0),
        EngineUpdate(3, "destroy", "succeeded", "", t0, t0 + timedelta(minutes=1)),
    )
    ok = finished_record(_record(1, {}, created=2, setup_nodes=("head",), cost_after=0.5),
                         "succeeded", {"head": ("ok", "")})
    entries = history_entries(updates, {1: ok})
    assert [e.kind for e in entries] == ["apply", "update", "destroy"]
    assert entries[0].summary == "+2 ~0 -0; setup on 1; $0.00/h -> $0.50/h"
    assert entries[0].result == "succeeded" and entries[0].who == "ann@box"
    assert entries[1].result == "failed in the engine"
    assert entries[2].summary == "teardown"


def test_diff_of_two_records_shows_resources_nodes_fields_and_cost() -> None:
    def graph(nodes: list[str], mode: str) -> dict:  # type: ignore[type-arg]
        return {
            "cloud": "local",
            "nodes": nodes,
            "node_fields": {"setup": "s", "run": "r", "envs": {"MODE": mode}, "secrets": {},
                            "file_mounts": {}, "workdir": None},
            "resources": [{"kind": "local:Node", "name": n, "args": {"cpus": 1}} for n in nodes]
            + [{"kind": "local:Network", "name": "net", "args": {"cidr": "127.1.0.0/24"}}],
        }

    a = _record(1, {}, graph=graph(["head"], "a"), cost_after=0.0)
    b = _record(3, {}, graph=graph(["head", "worker1"], "b"), cost_after=0.0)
    plan = diff_records(StackRef("styx", "c1", "file:///x"), a, b)
    changed = {(s.name, s.action.value) for s in plan.changes}
    assert changed == {("worker1", "create")}
    fields = {c.field for c in plan.node_changes}
    assert "envs" in fields
    back = diff_records(StackRef("styx", "c1", "file:///x"), b, a)
    assert {(s.name, s.action.value) for s in back.changes} == {("worker1", "delete")}
