"""State backends by URL: what `file://` and `s3://` name, and small records kept beside the state.

An `s3://BUCKET[/PREFIX][?endpoint=URL&region=R]` backend may name its endpoint in the URL
or in AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL), as the AWS tools read it; a stand-in such
as moto or MinIO needs path-style requests, which the engine is then told to make.

`BackendStore` keeps Styx's own small records (locks) next to the engine's checkpoints with
three atomic operations: create if absent, replace if unchanged, delete if unchanged. On S3
they are conditional requests (If-None-Match / If-Match); on a file backend, steps taken
under an flock of the store's folder (released by the kernel if the process dies).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlparse

from styx.errors import StyxError

__all__ = [
    "BackendStore",
    "S3Location",
    "StoredRecord",
    "engine_backend_url",
    "parse_s3",
    "s3_client",
]

# What a backend field may be; the same words in the stack schema, README and errors.
BACKEND_FORMS = "file://PATH or s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION]"


@dataclass(frozen=True)
class S3Location:
    """An s3:// backend: bucket, key prefix ('' at the bucket's root), endpoint, region."""

    bucket: str
    prefix: str
    endpoint: str | None
    region: str | None
    path_style: bool

    def key(self, suffix: str) -> str:
        return f"{self.prefix}/{suffix}" if self.prefix else suffix


def _query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}


def _endpoint(value: str, query: dict[str, str]) -> str:
    if "://" in value:
        return value
    return ("http://" if query.get("disableSSL") == "true" else "https://") + value


def parse_s3(url: str) -> S3Location:
    """The parts of an s3:// URL; the endpoint from the URL, else AWS_ENDPOINT_URL_S3."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise StyxError(f"not an s3:// backend URL: {url!r} (expected {BACKEND_FORMS})")
    query = _query(url)
    given = query.get("endpoint")
    endpoint = (_endpoint(given, query) if given else None) or os.environ.get(
        "AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None  # fmt: skip
    region = query.get("region") or os.environ.get("AWS_REGION") or os.environ.get(
        "AWS_DEFAULT_REGION") or None  # fmt: skip
    styles = (query.get("use_path_style"), query.get("s3ForcePathStyle"))
    path_style = "true" in styles or (endpoint is not None and "false" not in styles)
    return S3Location(parsed.netloc, unquote(parsed.path).strip("/"), endpoint, region,
                      path_style)  # fmt: skip


def engine_backend_url(url: str) -> str:
    """The URL the engine is given for `url`: an s3:// backend with an endpoint (in the URL
    or AWS_ENDPOINT_URL_S3: a stand-in such as moto or MinIO) gets path-style requests,
    which such servers need."""
    if not url.startswith("s3://"):
        return url
    query = _query(url)
    explicit = {"use_path_style", "s3ForcePathStyle"} & set(query)
    if explicit or parse_s3(url).endpoint is None:
        return url
    query["use_path_style"] = "true"
    base = url.split("?", 1)[0]
    return f"{base}?{urlencode(query, safe=':/')}"


def s3_client(location: S3Location) -> Any:
    """A boto3 S3 client for the backend (default credential chain)."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as err:  # pragma: no cover - boto3 is a dependency
        raise StyxError("an s3:// backend needs boto3 (pip install boto3)") from err
    config = Config(s3={"addressing_style": "path"}) if location.path_style else None
    return boto3.client("s3", endpoint_url=location.endpoint, region_name=location.region,
                        config=config)  # fmt: skip


@dataclass(frozen=True)
class StoredRecord:
    """A record's text, its tag (what a conditional change names) and its age in seconds,
    measured by the store's own clock (S3's, or the file system's) so hosts' clocks can
    differ."""

    key: str
    text: str
    tag: str
    age: float


class BackendStore:
    """Small records under one folder of a backend: `.styx/<folder>/` in it."""

    def __init__(self, backend_url: str, folder: str) -> None:
        self.backend_url = backend_url
        self.folder = folder.strip("/")
        self._s3: S3Location | None = None
        self._client: Any = None
        self._root: Path | None = None
        if backend_url.startswith("file://"):
            path = unquote(backend_url.removeprefix("file://").split("?", 1)[0])
            self._root = Path(path) / ".styx" / self.folder
        elif backend_url.startswith("s3://"):
            self._s3 = parse_s3(backend_url)
        else:
            raise StyxError(f"Styx keeps its records in {BACKEND_FORMS} backends, "
                            f"not {backend_url}")  # fmt: skip

    def where(self, name: str) -> str:
        """The record's path or s3:// URL, for messages."""
        if self._s3 is not None:
            return f"s3://{self._s3.bucket}/{self._key(name)}"
        assert self._root is not None
        return str(self._root / name)

    # -- S3 -------------------------------------------------------------------------------

    def _key(self, name: str) -> str:
        assert self._s3 is not None
        return self._s3.key(f".styx/{self.folder}/{name}")

    def _c(self) -> Any:
        if self._client is None:
            assert self._s3 is not None
            self._client = s3_client(self._s3)
        return self._client

    @staticmethod
    def _failed_precondition(err: Exception) -> bool:
        code = str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409")

    # -- files ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _guarded(self) -> Iterator[Path]:
        """The folder, with its guard flock held: the steps inside are one atomic change."""
        assert self._root is not None
        self._root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._root / ".guard", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield self._root
        finally:
            os.close(fd)

    @staticmethod
    def _tag(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    @staticmethod
    def _write(path: Path, text: str) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    # -- the operations -------------------------------------------------------------------

    def read(self, name: str) -> StoredRecord | None:
        """The record, or None when there is none."""
        if self._s3 is not None:
            client = self._c()
            try:
                got = client.get_object(Bucket=self._s3.bucket, Key=self._key(name))
            except client.exceptions.NoSuchKey:
                return None
            text = got["Body"].read().decode(errors="replace")
            served = got["ResponseMetadata"].get("HTTPHeaders", {}).get("date")
            now = parsedate_to_datetime(served).timestamp() if served else time.time()
            age = max(0.0, now - got["LastModified"].timestamp())
            return StoredRecord(name, text, str(got["ETag"]), age)
        assert self._root is not None
        path = self._root / name
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
            age = max(0.0, time.time() - path.stat().st_mtime)
        except FileNotFoundError:
            return None
        return StoredRecord(name, text, self._tag(text), age)

    def names(self, prefix: str = "") -> list[str]:
        """The records whose names start with `prefix`."""
        if self._s3 is not None:
            base = self._key("")
            pages = self._c().get_paginator("list_objects_v2").paginate(
                Bucket=self._s3.bucket, Prefix=base + prefix)  # fmt: skip
            return sorted(item["Key"][len(base):] for page in pages
                          for item in page.get("Contents", []))  # fmt: skip
        assert self._root is not None
        if not self._root.is_dir():
            return []
        return sorted(p.name for p in self._root.glob(f"{prefix}*")
                      if p.is_file() and not p.name.startswith("."))  # fmt: skip

    def create(self, name: str, text: str) -> bool:
        """Write the record unless one exists; whether it was written."""
        if self._s3 is not None:
            try:
                self._c().put_object(Bucket=self._s3.bucket, Key=self._key(name),
                                     Body=text.encode(), IfNoneMatch="*")  # fmt: skip
            except Exception as err:  # botocore's ClientError
                if self._failed_precondition(err):
                    return False
                raise
            return True
        with self._guarded() as root:
            if (root / name).exists():
                return False
            self._write(root / name, text)
            return True

    def replace(self, name: str, text: str, tag: str) -> bool:
        """Write the record if it is still the one tagged `tag`; whether it was written."""
        if self._s3 is not None:
            try:
                self._c().put_object(Bucket=self._s3.bucket, Key=self._key(name),
                                     Body=text.encode(), IfMatch=tag)  # fmt: skip
            except Exception as err:
                code = str(getattr(err, "response", {}).get("Error", {}).get("Code", ""))
                if self._failed_precondition(err) or code in ("NoSuchKey", "404"):
                    return False
                raise
            return True
        with self._guarded() as root:
            current = self.read(name)
            if current is None or current.tag != tag:
                return False
            self._write(root / name, text)
            return True

    def delete(self, name: str, tag: str | None = None) -> bool:
        """Remove the record (only if still tagged `tag`, when given); whether it was.

        S3 has no conditional delete on every server: the tag is checked just before, so
        a record replaced in between (a lease taken over in that instant) could go too.
        """
        if self._s3 is not None:
            current = self.read(name)
            if current is None or (tag is not None and current.tag != tag):
                return False
            self._c().delete_object(Bucket=self._s3.bucket, Key=self._key(name))
            return True
        with self._guarded() as root:
            current = self.read(name)
            if current is None or (tag is not None and current.tag != tag):
                return False
            (root / name).unlink()
            return True


def s3_engine_lock_records(url: str, project: str, stack: str) -> list[tuple[str, str]]:
    """The engine's lock objects of a stack in an s3:// backend: (s3:// URL, text) each."""
    location = parse_s3(url)
    client = s3_client(location)
    prefix = location.key(f".pulumi/locks/organization/{project}/{stack}/")
    found = []
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=location.bucket,
                                                              Prefix=prefix)  # fmt: skip
    for item in (item for page in pages for item in page.get("Contents", [])):
        with contextlib.suppress(client.exceptions.NoSuchKey):  # released in between
            body = client.get_object(Bucket=location.bucket, Key=item["Key"])["Body"].read()
            found.append((f"s3://{location.bucket}/{item['Key']}", body.decode(errors="replace")))
    return found
