"""Version records: what each apply did, kept in the state backend beside the engine's checkpoint.

The engine's history says that an update ran and whether the engine succeeded; it cannot say
which task was applied, by whom, or whether setup worked. A version record can: the task as
applied (the spec after templating, stack file and flags; secret names, never values), its
hash, the git commit, who applied it from where, the plan's summary, the hourly cost after,
the stack's outputs and each node's setup outcome. One record per version, keyed by the
engine's version number, under `.styx/<project>/<stack>/versions/` of a file backend's folder
or an S3 backend's prefix, so history, show, diff and rollback need nothing but the backend.

A record is written when the engine's update has ended ("setup started") and rewritten once
setup's outcome is known, so a killed apply leaves "setup started", never "succeeded".
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from styx.engine import StackRef
from styx.errors import StyxError
from styx.graph import ResourceGraph
from styx.plan import Action, Plan
from styx.spec import Accelerator, Autostop, Bound, FrozenMap, PortRange, Resources, Secret, Spec
from styx.workflow._outcomes import _s3, now, record_location

__all__ = [
    "RecordResult",
    "VersionRecord",
    "finished_record",
    "git_dirty",
    "list_records",
    "read_record",
    "record_prefix",
    "remove_records",
    "spec_from_task",
    "started_record",
    "who",
    "write_record",
]

RecordResult = Literal["setup started", "succeeded", "failed", "interrupted"]
_FORMAT = 1


@dataclass(frozen=True)
class VersionRecord:
    """What one version of a stack is: the task applied, by whom, and how it went."""

    version: int
    kind: str  # apply | rollback
    task: Mapping[str, Any]  # Spec.to_dict(): secret values are "[secret]"
    spec_hash: str
    graph: Mapping[str, Any]  # ResourceGraph.to_dict(): what the task compiled to
    who: str  # user@host
    started_at: str
    finished_at: str = ""
    git_commit: str | None = None
    git_dirty: bool | None = None
    # The plan that was applied: resources +created ~updated/replaced -deleted, setup nodes.
    created: int = 0
    changed: int = 0
    deleted: int = 0
    setup_nodes: tuple[str, ...] = ()
    cost_before: float = 0.0
    cost_after: float = 0.0
    # "running" once applied; a stop (issue 13) records "stopped", billed at the disk rate.
    state: str = "running"
    stopped_cost: float = 0.0
    outputs: Mapping[str, Any] = field(default_factory=dict)
    result: RecordResult = "setup started"
    message: str = ""
    nodes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # name -> status, message
    rollback_of: int | None = None

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(sorted(self.task.get("secrets") or {}))

    def summary(self) -> str:
        """'+1 ~0 -0; setup on 1; $0.50/h -> $0.75/h'."""
        text = f"+{self.created} ~{self.changed} -{self.deleted}"
        if self.setup_nodes:
            text += f"; setup on {len(self.setup_nodes)}"
        return text + f"; ${self.cost_before:.2f}/h -> ${self.cost_after:.2f}/h"

    def describe_result(self) -> str:
        """'succeeded', 'failed at setup on worker1', 'setup did not finish' ..."""
        if self.result == "succeeded":
            return "succeeded"
        if self.result == "setup started":
            return "setup did not finish (its apply ended before recording an outcome)"
        failed = sorted(n for n, o in self.nodes.items() if o.get("status") != "ok")
        where = f" on {', '.join(failed)}" if failed else ""
        return f"{self.result} at setup{where}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["setup_nodes"] = list(self.setup_nodes)
        return {"format": _FORMAT, **data}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> VersionRecord:
        try:
            if data.get("format") != _FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {_FORMAT}")
            fields = {k: v for k, v in data.items() if k != "format"}
            fields["setup_nodes"] = tuple(fields.get("setup_nodes") or ())
            return cls(**fields)
        except (ValueError, TypeError, AttributeError) as err:
            raise StyxError(f"the version record {where} is damaged ({err})") from err


def who() -> str:
    """user@host of this process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (containers)
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def git_dirty(path: Path) -> bool | None:
    """Whether the repository holding `path` has uncommitted changes (None: not in git)."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=path.resolve().parent, capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return bool(done.stdout.strip()) if done.returncode == 0 else None


# -- the task back from its record -------------------------------------------------------


def _bound(text: str | None) -> Bound | None:
    if text is None:
        return None
    return Bound(float(text.removesuffix("+")), text.endswith("+"))


def _accelerator(text: str | None) -> Accelerator | None:
    if text is None:
        return None
    name, _, count = text.rpartition(":")
    return Accelerator(name, float(count))


def _port(text: str) -> PortRange:
    start, _, end = text.partition("-")
    return PortRange(int(start), int(end or start))


def _resources(data: Mapping[str, Any]) -> Resources:
    image = data.get("image_id")
    autostop = data.get("autostop")
    return Resources(
        cloud=data.get("cloud"),
        region=data.get("region"),
        zone=data.get("zone"),
        instance_type=data.get("instance_type"),
        cpus=_bound(data.get("cpus")),
        memory=_bound(data.get("memory_gb")),
        accelerator=_accelerator(data.get("accelerator")),
        use_spot=bool(data.get("use_spot")),
        disk_size_gb=data.get("disk_size_gb"),
        disk_tier=data.get("disk_tier"),
        ports=tuple(_port(p) for p in data.get("ports") or ()),
        image_id=FrozenMap(image) if isinstance(image, Mapping) else image,
        labels=FrozenMap(data.get("labels") or {}),
        autostop=None if autostop is None else Autostop(**autostop),
        network_tier=data.get("network_tier"),
    )


def spec_from_task(task: Mapping[str, Any], secrets: Mapping[str, str]) -> Spec:
    """The Spec a record's task describes, with each secret's value from `secrets`.

    The inverse of Spec.to_dict: the same fingerprint as the spec that was applied when the
    secrets have the values they had.
    """
    missing = sorted(set(task.get("secrets") or {}) - set(secrets))
    if missing:
        raise StyxError(
            f"the task needs the secret(s) {', '.join(missing)}: their values are never "
            "recorded; give them again (--secret NAME reads NAME from your environment)"
        )
    workdir = task.get("workdir")
    return Spec(
        name=task.get("name"),
        source=Path(task["source"]),
        num_nodes=int(task["num_nodes"]),
        resources=_resources(task["resources"]),
        candidates=tuple(_resources(c) for c in task.get("candidates") or ()),
        candidates_ordered=bool(task.get("candidates_ordered")),
        envs=FrozenMap(task.get("envs") or {}),
        secrets=FrozenMap({k: Secret(secrets[k]) for k in task.get("secrets") or {}}),
        file_mounts=FrozenMap(task.get("file_mounts") or {}),
        workdir=None if workdir is None else Path(workdir),
        setup=task.get("setup"),
        run=task.get("run"),
    )


# -- storage -----------------------------------------------------------------------------


def record_prefix(ref: StackRef) -> str:
    """The folder (or s3:// prefix) holding the stack's Styx records, ending in '/'."""
    return record_location(ref).removesuffix("outcomes.json")


def _versions(ref: StackRef) -> str:
    return record_prefix(ref) + "versions/"


def _name(version: int) -> str:
    return f"{version:08d}.json"  # sorts by version in listings


def write_record(ref: StackRef, record: VersionRecord) -> None:
    """Write (or replace) the record of `record.version`, atomically."""
    text = json.dumps(record.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    location = _versions(ref) + _name(record.version)
    if location.startswith("s3://"):
        client, bucket, _ = _s3(ref)
        key = location.removeprefix(f"s3://{bucket}/")
        client.put_object(Bucket=bucket, Key=key, Body=text.encode())
        return
    path = Path(location)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StyxError(f"cannot record version {record.version} in {path}: {err}") from err


def read_record(ref: StackRef, version: int) -> VersionRecord | None:
    location = _versions(ref) + _name(version)
    if location.startswith("s3://"):
        client, bucket, _ = _s3(ref)
        try:
            body = client.get_object(Bucket=bucket, Key=location.removeprefix(f"s3://{bucket}/"))
        except client.exceptions.NoSuchKey:
            return None
        text = body["Body"].read().decode()
    else:
        try:
            text = Path(location).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise StyxError(f"the version record {location} is damaged ({err})") from err
    return VersionRecord.from_dict(data, location)


def list_records(ref: StackRef) -> dict[int, VersionRecord]:
    """Every version record of the stack, by version."""
    folder = _versions(ref)
    names: list[str] = []
    if folder.startswith("s3://"):
        client, bucket, _ = _s3(ref)
        prefix = folder.removeprefix(f"s3://{bucket}/")
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                      Prefix=prefix):
            names.extend(o["Key"].rsplit("/", 1)[-1] for o in page.get("Contents") or ())
    elif Path(folder).is_dir():
        names = [p.name for p in Path(folder).iterdir()]
    found: dict[int, VersionRecord] = {}
    for name in names:
        stem = name.removesuffix(".json")
        if name.endswith(".json") and stem.isdigit():
            record = read_record(ref, int(stem))
            if record is not None:
                found[record.version] = record
    return dict(sorted(found.items()))


def remove_records(ref: StackRef) -> None:
    """Forget every version record (a stack removed for good, or replaced by an import)."""
    for version in list_records(ref):
        location = _versions(ref) + _name(version)
        if location.startswith("s3://"):
            client, bucket, _ = _s3(ref)
            client.delete_object(Bucket=bucket, Key=location.removeprefix(f"s3://{bucket}/"))
        else:
            Path(location).unlink(missing_ok=True)


def started_record(
    plan: Plan, spec: Spec, graph: ResourceGraph, version: int, outputs: Mapping[str, Any],
    started_at: str, rollback_of: int | None = None,
) -> VersionRecord:
    """The record of a version whose engine update ended and whose setup is about to run."""
    return VersionRecord(
        version=version,
        kind="rollback" if rollback_of is not None else "apply",
        task=spec.to_dict(),
        spec_hash=plan.spec_hash,
        graph=graph.to_dict(),
        who=who(),
        started_at=started_at,
        git_commit=plan.git_commit,
        git_dirty=git_dirty(spec.source) if plan.git_commit else None,
        created=plan.count(Action.CREATE),
        changed=plan.count(Action.UPDATE) + plan.count(Action.REPLACE),
        deleted=plan.count(Action.DELETE),
        setup_nodes=plan.setup_nodes,
        cost_before=plan.cost_before,
        cost_after=plan.cost_after,
        outputs=dict(outputs),
        rollback_of=rollback_of,
    )


def finished_record(
    record: VersionRecord, result: RecordResult, nodes: Mapping[str, tuple[str, str]],
    message: str = "",
) -> VersionRecord:
    """The record once setup's outcome is known."""
    return replace(
        record, result=result, finished_at=now(), message=message[:500],
        nodes={n: {"status": s, "message": m[:500]} for n, (s, m) in sorted(nodes.items())},
    )  # fmt: skip
