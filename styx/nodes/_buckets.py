"""A task's buckets onto its nodes: fetched here (local nodes) or by the nodes themselves (aws).

A cloud whose nodes share this machine (local) has its buckets read here, through the S3 API
with this process's credentials and endpoint (boto3 reads AWS_ENDPOINT_URL_S3, so an S3-compatible
server such as moto's serves as well as AWS), into folders that travel in the setup bundle like
any file mount. A cloud whose nodes hold their own access (aws: an instance profile) gets a
bash script its nodes run at setup, with SkyPilot's tools: `aws s3 sync` for COPY (a single
object with `aws s3 cp`), and a FUSE mount for MOUNT and MOUNT_CACHED (rclone, which SkyPilot
uses for MOUNT_CACHED and on ARM; Styx takes it from the distribution's packages everywhere
rather than goofys downloaded from GitHub).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from styx.errors import NodeError
from styx.spec import StorageMount

__all__ = ["fetch_buckets", "storage_script"]


def fetch_buckets(storage: Mapping[str, StorageMount], into: Path) -> dict[str, str]:
    """Download each bucket (all COPY: local refuses the rest) under `into`: dst -> local path.

    A prefix that is an object's whole key is that file; otherwise the objects under
    `prefix/` land in a folder, keys relative to the prefix, as `aws s3 sync` lays them out.
    """
    import boto3  # a second to import; only a task with buckets needs it
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client("s3")
    fetched: dict[str, str] = {}
    for index, (dst, mount) in enumerate(sorted(storage.items())):
        target = into / str(index)
        try:
            fetched[dst] = str(_download(client, mount, target))
        except (BotoCoreError, ClientError) as err:
            # A `name:` bucket is one the local cloud only reads: it never creates it.
            created = " (the local cloud creates no bucket: make it first)" if mount.create else ""
            raise NodeError(f"file_mounts {dst}: cannot read {mount.url}: {err}{created}") \
                from err
    return fetched


def _download(client: Any, mount: StorageMount, target: Path) -> Path:
    prefix = mount.prefix
    if prefix:
        try:
            client.head_object(Bucket=mount.bucket, Key=prefix)
        except client.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "403"):
                raise
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(mount.bucket, prefix, str(target))
            return target
    target.mkdir(parents=True, exist_ok=True)
    folder = f"{prefix}/" if prefix else ""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=mount.bucket, Prefix=folder)
    for page in pages:
        for item in page.get("Contents", ()):
            key = str(item["Key"])
            relative = key[len(folder):]
            if not relative or relative.endswith("/"):
                continue  # a folder marker
            path = target.joinpath(*relative.split("/"))
            if target.resolve() not in path.resolve().parents:
                raise NodeError(f"{mount.url}: object key {key!r} would land outside the mount")
            path.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(mount.bucket, key, str(path))
    return target


def _on_node(path: str) -> str:
    if path.startswith("/"):
        return shlex.quote(path)
    relative = path[2:] if path.startswith("~/") else path
    return f'"$HOME"/{shlex.quote(relative)}' if relative not in ("~", "") else '"$HOME"'


def storage_script(storage: Mapping[str, StorageMount]) -> str:
    """Bash a node runs at setup to get each bucket, with its own (instance profile) access."""
    lines = ["set -e"]
    if any(m.mode == "COPY" for m in storage.values()):
        lines.append("command -v aws >/dev/null || { sudo apt-get update -q && "
                     "sudo apt-get install -y -q awscli; }")
    if any(m.mode != "COPY" for m in storage.values()):
        lines += [
            "command -v rclone >/dev/null || { sudo apt-get update -q && "
            "sudo apt-get install -y -q rclone fuse3; }",
            # allow_other lets the task's other users (and docker) see the mount, as SkyPilot's.
            "grep -q '^user_allow_other' /etc/fuse.conf 2>/dev/null || "
            "echo user_allow_other | sudo tee -a /etc/fuse.conf >/dev/null",
        ]
    for dst, mount in sorted(storage.items()):
        target = _on_node(dst)
        lines.append(f'sudo mkdir -p {target} && sudo chown "$(id -u):$(id -g)" {target}')
        url = shlex.quote(mount.url)
        if mount.mode == "COPY":
            key = shlex.quote(mount.prefix)
            lines.append(
                f"if [ -n {key} ] && aws s3api head-object --bucket {shlex.quote(mount.bucket)} "
                f"--key {key} >/dev/null 2>&1; then sudo rmdir {target}; "
                f"aws s3 cp {url} {target}; "
                f"else aws s3 sync --no-follow-symlinks {url} {target}; fi")
            continue
        remote = shlex.quote(f":s3:{mount.bucket}/{mount.prefix}".rstrip("/"))
        cache = " --vfs-cache-mode full" if mount.mode == "MOUNT_CACHED" else ""
        # A mount already there from an earlier setup stays: setup re-runs must not stack them.
        lines.append(f"mountpoint -q {target} || rclone mount {remote} {target} --daemon "
                     f"--allow-other --s3-provider AWS --s3-env-auth=true{cache}")
    return "\n".join(lines) + "\n"
