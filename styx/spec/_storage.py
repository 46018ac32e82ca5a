"""Storage mounts: a `file_mounts` entry that is a bucket, read as SkyPilot reads it.

Two forms (SkyPilot's sky/data/storage.py and its task schema):
- a bucket URL as the source, `/data: s3://bucket/prefix`: copied onto every node (COPY);
- a storage mount, `/data: {name, source, store, mode, persistent}`: `source: s3://...`
  names an existing bucket; `name:` alone is a bucket Styx creates (and, unless
  `persistent: false`, keeps after `down`, as SkyPilot keeps it after `sky down`); `mode` is
  MOUNT (SkyPilot's default), COPY or MOUNT_CACHED.

Styx reads S3 only. Other stores (gcs, r2, azure, ...) and a local folder as the source (which
SkyPilot uploads to the bucket first) are refused where they are written, as not supported yet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from styx.spec._template import substitute_envs

__all__ = ["MODES", "StorageMount", "read_bucket_url", "read_storage"]

MODES: Final = ("MOUNT", "COPY", "MOUNT_CACHED")
# SkyPilot's StoreType values (sky/data/storage.py), lower-cased as its schema compares them.
_OTHER_STORES: Final = ("gcs", "azure", "r2", "ibm", "oci", "nebius", "coreweave", "vastdata")
# How each store's URLs start, for the refusal of a URL source.
_STORE_OF_SCHEME: Final = {"s3": "s3", "gs": "gcs", "r2": "r2", "cos": "ibm", "oci": "oci",
                           "nebius": "nebius", "cw": "coreweave", "vastdata": "vastdata",
                           "https": "azure"}
_URL: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/]*)/?(.*)$")
# S3's rule for bucket names, less the length floor: names written as "x" in examples stand for
# a real name, and S3 itself says what is wrong with a short one at apply time.
_BUCKET: Final = re.compile(r"^[a-z0-9][a-z0-9.-]{0,61}[a-z0-9]$|^[a-z0-9]$")

# A problem: the key under the mount it is about ("" for the mount itself) and the message.
Problem = tuple[str, str]


@dataclass(frozen=True)
class StorageMount:
    """A bucket (or a prefix of one) that every node gets, by copy or by a FUSE mount."""

    bucket: str
    prefix: str = ""  # a key prefix in the bucket; "" for the whole bucket
    mode: str = "MOUNT"  # MOUNT | COPY | MOUNT_CACHED
    create: bool = False  # a `name:` store: Styx creates the bucket
    persistent: bool = True  # a created bucket outlives `down` (SkyPilot's default)
    store: str = "s3"

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "mode": self.mode, "create": self.create,
                "persistent": self.persistent}

    def describe(self) -> str:
        """`s3://b/p (COPY)`, `s3://b (MOUNT, created, deleted by down)`: for validate and plans."""
        notes = [self.mode]
        if self.create:
            notes.append("created by Styx" + ("" if self.persistent else ", deleted by down"))
        return f"{self.url} ({', '.join(notes)})"


def read_bucket_url(text: str) -> tuple[StorageMount | None, str | None]:
    """A bucket URL given as a file_mounts source: an S3 copy, or why it is refused."""
    match = _URL.match(text)
    if match is None:
        return None, None
    scheme, bucket, prefix = match.group(1).lower(), match.group(2), match.group(3)
    if scheme != "s3":
        return None, _other_store(_STORE_OF_SCHEME.get(scheme), f"{scheme}:// sources")
    problem = _bucket_problem(bucket)
    if problem is not None:
        return None, problem
    return StorageMount(bucket=bucket, prefix=prefix.rstrip("/"), mode="COPY"), None


def read_storage(raw: Mapping[str, Any], envs: Mapping[str, str]
                 ) -> tuple[StorageMount | None, list[Problem]]:
    """A storage mount from its mapping (schema-valid), or the problems found, each at a key."""
    values = {k: substitute_envs(v, envs) if isinstance(v, str) else v for k, v in raw.items()}
    problems: list[Problem] = []
    internal = sorted(k for k in values if k.startswith("_"))
    for key in internal:
        problems.append((key, f"not supported by Styx yet: SkyPilot's internal storage field "
                              f"{key!r}"))
    store = str(values.get("store") or "s3").lower()
    if store != "s3":
        problems.append(("store", _other_store(store, f"store {store!r}")))
    mode = str(values.get("mode") or "MOUNT").upper()
    if mode not in MODES:
        problems.append(("mode", f"expected one of {', '.join(MODES)}, got {values['mode']!r}"))
    name = values.get("name")
    source = values.get("source")
    bucket, prefix, create = "", "", False
    if isinstance(source, list) or (isinstance(source, str) and _URL.match(source) is None):
        problems.append(("source", "not supported by Styx yet: a local folder as a storage "
                                   "source (SkyPilot uploads it to the bucket first); give an "
                                   "s3:// source, or copy the folder with a plain file mount"))
    elif isinstance(source, str):
        mount, why = read_bucket_url(source)
        if mount is None:
            problems.append(("source", why or f"not a bucket URL: {source!r}"))
        else:
            bucket, prefix = mount.bucket, mount.prefix
            if name and name != bucket:
                problems.append(("name", f"name {name!r} and source {source!r} name different "
                                         "buckets; keep one"))
    elif name:
        bucket, create = str(name), True
        why = _bucket_problem(bucket)
        if why is not None:
            problems.append(("name", why))
    else:
        problems.append(("", "not supported by Styx yet: a storage mount with neither name nor "
                             "source (SkyPilot's managed jobs name it for you); give a bucket "
                             "name or an s3:// source"))
    if problems:
        return None, problems
    persistent = values.get("persistent", True) is not False
    return StorageMount(bucket=bucket, prefix=prefix, mode=mode, create=create,
                        persistent=persistent), []


def _other_store(store: str | None, what: str) -> str:
    known = f" ({store})" if store in _OTHER_STORES else ""
    return (f"not supported by Styx yet: {what}{known}; Styx reads S3 buckets (s3://) on "
            "local and aws")


def _bucket_problem(bucket: str) -> str | None:
    if _BUCKET.match(bucket):
        return None
    return (f"invalid S3 bucket name {bucket!r}: lower-case letters, digits, dots and hyphens, "
            "at most 63, starting and ending with a letter or digit")
