"""`styx state export | import`: a stack's state and history in one file, for backups and moves.

The file holds the engine's checkpoint (as `pulumi stack export` gives it: secrets stay
encrypted with the stack's passphrase), the engine's history entries (so version numbers and
times carry over), and Styx's records (versions, node outcomes). It is only as secret as the
passphrase: keep that with it (STYX_PASSPHRASE, or the passphrase file), never regenerate it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from pulumi import automation as auto

from styx.engine import StackOps, StackRef, open_stack
from styx.errors import StyxError
from styx.workflow._outcomes import _s3, now

__all__ = ["ExportSummary", "export_file_stack", "export_stack", "import_stack"]

KIND = "styx-stack-export"
_FORMAT = 1


@dataclass(frozen=True)
class ExportSummary:
    """What an export or import carried: the stack, its engine history and Styx records."""

    stack: str
    resources: int
    engine_entries: int
    styx_files: int


class _Tree:
    """The objects under one folder of a backend: a file backend's folder or an S3 prefix."""

    def __init__(self, ref: StackRef, folder: str) -> None:
        self.ref = ref
        url = ref.backend_url
        if url.startswith("file://"):
            self.root: Path | None = Path(unquote(url.removeprefix("file://").split("?", 1)[0]))
            self.path = self.root / folder
            self.prefix = ""
        elif url.startswith("s3://"):
            self.root = None
            _client, _bucket, key = _s3(ref)
            base = key.split(".styx/", 1)[0]
            self.prefix = base + folder.rstrip("/") + "/"
        else:
            raise StyxError(f"Styx exports and imports file:// and s3:// backends, not {url}")

    def items(self) -> Iterator[tuple[str, bytes]]:
        if self.root is not None:
            if self.path.is_dir():
                for path in sorted(p for p in self.path.rglob("*") if p.is_file()):
                    yield path.relative_to(self.path).as_posix(), path.read_bytes()
            return
        client, bucket, _ = _s3(self.ref)
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                      Prefix=self.prefix):
            for obj in page.get("Contents") or ():
                body = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                yield obj["Key"].removeprefix(self.prefix), body

    def clear(self) -> None:
        if self.root is not None:
            for path in sorted(self.path.rglob("*"), reverse=True) if self.path.is_dir() else ():
                if path.is_file():
                    path.unlink()
            return
        client, bucket, _ = _s3(self.ref)
        for name, _body in list(self.items()):
            client.delete_object(Bucket=bucket, Key=self.prefix + name)

    def write(self, name: str, body: bytes) -> None:
        if self.root is not None:
            path = self.path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                tmp.write_bytes(body)
                os.replace(tmp, path)
            finally:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            return
        client, bucket, _ = _s3(self.ref)
        client.put_object(Bucket=bucket, Key=self.prefix + name, Body=body)


def _engine_history(ref: StackRef) -> _Tree:
    return _Tree(ref, f".pulumi/history/{ref.project}/{ref.stack}/")


def _styx_records(ref: StackRef) -> _Tree:
    return _Tree(ref, f".styx/{ref.project}/{ref.stack}/")


def export_stack(ref: StackRef, path: Path) -> ExportSummary:
    """Write the stack's checkpoint, engine history and Styx records to `path` (mode 0600)."""
    ops = StackOps(open_stack(ref, create=False))
    deployment = ops.export_deployment()
    history = {n: base64.b64encode(b).decode() for n, b in _engine_history(ref).items()}
    records = {n: b.decode("utf-8") for n, b in _styx_records(ref).items()}
    data: dict[str, Any] = {
        "kind": KIND,
        "format": _FORMAT,
        "project": ref.project,
        "stack": ref.stack,
        "from_backend": ref.backend_url,
        "exported_at": now(),
        "checkpoint": {"version": deployment.version, "deployment": deployment.deployment},
        "engine_history": history,
        "styx_records": records,
    }
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StyxError(f"cannot write the export to {path}: {err}") from err
    resources = len((deployment.deployment or {}).get("resources") or ())
    return ExportSummary(ref.stack, resources, len(history), len(records))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise StyxError(f"cannot read the export {path}: {err}") from err
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise StyxError(f"{path} is not a Styx stack export (`styx state export` makes one)")
    if data.get("format") != _FORMAT:
        raise StyxError(f"{path} is an export of format {data.get('format')!r}; this Styx "
                        f"reads format {_FORMAT}")  # fmt: skip
    return data


def export_file_stack(path: Path) -> tuple[str, str]:
    """(project, stack) named by an export file."""
    data = _read(path)
    return str(data["project"]), str(data["stack"])


def import_stack(path: Path, ref: StackRef) -> ExportSummary:
    """Create `ref` from the export in `path`: checkpoint, engine history, Styx records.

    Refuses a stack that already has history there: an import never overwrites one. The
    stack's secrets open only with the passphrase they were exported under.
    """
    data = _read(path)
    if (data["project"], data["stack"]) != (ref.project, ref.stack):
        # Resource names (URNs) in the checkpoint carry the stack's name.
        raise StyxError(f"{path} holds the stack {data['project']}/{data['stack']}, not "
                        f"{ref.qualified}")  # fmt: skip
    history = _engine_history(ref)
    if any(True for _ in history.items()):
        raise StyxError(f"{ref.qualified} already has a history in {ref.backend_url}; import "
                        "into a backend (or a stack name) that does not hold it yet")  # fmt: skip
    ops = StackOps(open_stack(ref, create=True))
    checkpoint = data["checkpoint"]
    ops.import_deployment(auto.Deployment(version=checkpoint["version"],
                                          deployment=checkpoint["deployment"]))  # fmt: skip
    # The engine's own entries (the import) give way to the stack's real history.
    history.clear()
    for name, body in sorted(data["engine_history"].items()):
        history.write(name, base64.b64decode(body))
    records = _styx_records(ref)
    for name, text in sorted(data["styx_records"].items()):
        records.write(name, text.encode("utf-8"))
    resources = len((checkpoint["deployment"] or {}).get("resources") or ())
    return ExportSummary(ref.stack, resources, len(data["engine_history"]),
                         len(data["styx_records"]))  # fmt: skip
