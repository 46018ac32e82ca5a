"""The bash an AWS node runs to get its buckets: SkyPilot's tools, quoted, idempotent mounts.

Only its text is checked here (and that bash parses it): the AWS provider cannot run on this
machine, so no node ever ran it. The local cloud's path (buckets read here with boto3) runs
for real in tests/integration/test_storage_local.py.
"""

from __future__ import annotations

import subprocess

from styx.nodes._buckets import storage_script
from styx.spec import StorageMount


def test_copy_syncs_a_prefix_or_copies_one_object() -> None:
    script = storage_script({"/data": StorageMount("pub", "covid run", mode="COPY")})
    assert "sudo apt-get install -y -q awscli" in script
    assert ("aws s3api head-object --bucket pub --key 'covid run'" in script)
    assert "aws s3 cp 's3://pub/covid run' /data" in script
    assert "aws s3 sync --no-follow-symlinks 's3://pub/covid run' /data" in script
    assert "rclone" not in script


def test_mounts_use_rclone_and_are_not_stacked_by_a_second_setup() -> None:
    script = storage_script({
        "~/ckpt": StorageMount("ckpt", mode="MOUNT", create=True),
        "/cache": StorageMount("c", "p", mode="MOUNT_CACHED"),
    })
    assert "apt-get install -y -q rclone fuse3" in script
    assert ('mountpoint -q "$HOME"/ckpt || rclone mount :s3:ckpt "$HOME"/ckpt --daemon '
            "--allow-other --s3-provider AWS --s3-env-auth=true\n") in script
    assert "rclone mount :s3:c/p /cache --daemon --allow-other --s3-provider AWS " \
           "--s3-env-auth=true --vfs-cache-mode full" in script
    assert "awscli" not in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
