"""The stack's outcome record: what setup did on each node, kept in the state backend.

The engine records a node's new fields before setup runs, so its checkpoint cannot say
whether setup succeeded. This record can: "started" is written before setup begins and the
real outcome (ok, failed, interrupted) after it ends, per node, so a kill -9 leaves a
visible "started" behind. It lives beside the engine's checkpoint (a file under a file
backend's folder, an object in an S3 backend), so a plan made anywhere the state is
readable, a CI runner that cannot reach the nodes included, sees it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlparse

from styx.engine import StackRef
from styx.errors import StyxError

__all__ = [
    "NodeOutcome",
    "OutcomeRecord",
    "OutcomeStatus",
    "read_outcomes",
    "record_location",
    "write_outcomes",
]

OutcomeStatus = Literal["started", "ok", "failed", "interrupted"]
_FORMAT = 1


@dataclass(frozen=True)
class NodeOutcome:
    """The last setup attempt on one node, and the setup inputs that last succeeded there."""

    status: OutcomeStatus
    version: int  # the stack version the attempt ran against
    digest: str  # the setup inputs of the last attempt
    ok_digest: str | None = None  # the setup inputs of the last attempt that succeeded
    run_id: str = ""
    at: str = ""
    message: str = ""
    pid: int = 0  # the styx process that made the attempt
    host: str = ""

    @property
    def complete(self) -> bool:
        """Whether the node's setup finished successfully last time it was tried."""
        return self.status == "ok"

    def describe(self) -> str:
        """'failed at version 3' and the like, for plans and errors."""
        what = {"started": "did not finish", "interrupted": "was interrupted",
                "failed": "failed", "ok": "succeeded"}[self.status]  # fmt: skip
        return f"last attempt {what} at version {self.version}"


@dataclass(frozen=True)
class OutcomeRecord:
    """Per node name, its last setup outcome; nodes never attempted are absent."""

    nodes: Mapping[str, NodeOutcome]

    def get(self, node: str) -> NodeOutcome | None:
        return self.nodes.get(node)

    def with_outcomes(self, outcomes: Mapping[str, NodeOutcome]) -> OutcomeRecord:
        return OutcomeRecord({**self.nodes, **outcomes})

    def without(self, names: set[str]) -> OutcomeRecord:
        return OutcomeRecord({k: v for k, v in self.nodes.items() if k not in names})

    def to_json(self) -> str:
        data = {"format": _FORMAT, "nodes": {k: asdict(v) for k, v in sorted(self.nodes.items())}}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> OutcomeRecord:
        try:
            data = json.loads(text)
            if data.get("format") != _FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {_FORMAT}")
            nodes = {str(k): NodeOutcome(**v) for k, v in data["nodes"].items()}
        except (ValueError, TypeError, KeyError, AttributeError) as err:
            raise StyxError(f"the outcome record {where} is damaged ({err}); remove it and "
                            "`styx apply` re-runs setup on every node") from err  # fmt: skip
        return cls(nodes)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def started(previous: NodeOutcome | None, version: int, digest: str, run_id: str) -> NodeOutcome:
    """The record written before setup begins on a node: it keeps the last good inputs."""
    import socket

    return NodeOutcome(
        status="started",
        version=version,
        digest=digest,
        ok_digest=previous.ok_digest if previous else None,
        run_id=run_id,
        at=now(),
        pid=os.getpid(),
        host=socket.gethostname(),
    )


def finished(attempt: NodeOutcome, status: OutcomeStatus, message: str = "") -> NodeOutcome:
    """The record written once the attempt ended (`ok` makes its inputs the last good ones)."""
    ok_digest = attempt.digest if status == "ok" else attempt.ok_digest
    return replace(attempt, status=status, ok_digest=ok_digest, at=now(), message=message)


def record_location(ref: StackRef) -> str:
    """Where the stack's outcome record lives: a path or an s3:// URL."""
    suffix = f".styx/{ref.project}/{ref.stack}/outcomes.json"
    url = ref.backend_url
    if url.startswith("file://"):
        return str(Path(unquote(url.removeprefix("file://"))) / suffix)
    if url.startswith("s3://"):
        parsed = urlparse(url)
        prefix = parsed.path.strip("/")
        return f"s3://{parsed.netloc}/{prefix + '/' if prefix else ''}{suffix}"
    raise StyxError(f"Styx keeps node outcomes in file:// and s3:// backends, not {url}")


def _s3(ref: StackRef) -> tuple[Any, str, str]:
    """A boto3 client for the backend's bucket (endpoint and region from the URL's query)."""
    try:
        import boto3
    except ImportError as err:  # pragma: no cover - boto3 is a dependency
        raise StyxError("an s3:// backend needs boto3 (pip install boto3)") from err
    parsed = urlparse(ref.backend_url)
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    client = boto3.client(
        "s3", endpoint_url=query.get("endpoint") and _endpoint(query["endpoint"], query),
        region_name=query.get("region"),
    )  # fmt: skip
    location = record_location(ref)
    bucket, _, key = location.removeprefix("s3://").partition("/")
    return client, bucket, key


def _endpoint(value: str, query: Mapping[str, str]) -> str:
    if "://" in value:
        return value
    return ("http://" if query.get("disableSSL") == "true" else "https://") + value


def read_outcomes(ref: StackRef) -> OutcomeRecord | None:
    """The stack's outcome record, or None when setup was never recorded for it."""
    location = record_location(ref)
    if location.startswith("s3://"):
        client, bucket, key = _s3(ref)
        try:
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        except client.exceptions.NoSuchKey:
            return None
        return OutcomeRecord.from_json(body, location)
    try:
        text = Path(location).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return OutcomeRecord.from_json(text, location)


def write_outcomes(ref: StackRef, record: OutcomeRecord) -> None:
    """Replace the stack's outcome record atomically (a reader sees the old or the new one)."""
    location = record_location(ref)
    text = record.to_json()
    if location.startswith("s3://"):
        client, bucket, key = _s3(ref)
        client.put_object(Bucket=bucket, Key=key, Body=text.encode())
        return
    path = Path(location)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StyxError(f"cannot record node outcomes in {path}: {err}") from err
    # The rename is durable only once the folder is.
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_outcomes(ref: StackRef) -> None:
    """Forget every node's outcome (the cluster was torn down)."""
    location = record_location(ref)
    if location.startswith("s3://"):
        client, bucket, key = _s3(ref)
        client.delete_object(Bucket=bucket, Key=key)
        return
    Path(location).unlink(missing_ok=True)
