"""Buckets on the local cloud, end to end, against moto's real S3 server on loopback.

A task copies a bucket prefix and one object onto its nodes (`/x: s3://...` and a storage
mount `{source: s3://..., mode: COPY}`): Styx reads them through the S3 API at the endpoint
AWS_ENDPOINT_URL_S3 names, and each node's folder holds them after apply; `down` leaves the
user's bucket as it was. The server is the session's shared one (tests/_moto.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _moto import MotoServer

from styx.workflow import TargetOptions, apply_target, down_stack, plan_target, resolve_target

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


@pytest.fixture
def s3_endpoint(aws_stand_in: MotoServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto's S3 server shared by the session (tests/conftest.py), named the way the AWS
    tools read it: AWS_ENDPOINT_URL_S3."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", aws_stand_in.url)
    return aws_stand_in.url


TASK = """\
name: buckets
num_nodes: 2
file_mounts:
  ~/data: s3://team-data/train
  ~/labels.csv: s3://team-data/labels.csv
  ~/all:
    source: s3://team-data
    mode: COPY
  ~/named:
    name: team-data
    store: s3
    mode: COPY
run: echo
"""


def test_copy_from_s3_lands_in_every_node_and_down_keeps_the_bucket(
        tmp_path: Path, styx_home: Path, s3_endpoint: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="team-data")
    objects = {"train/a.txt": b"alpha\n", "train/sub/b.txt": b"beta\n",
               "labels.csv": b"id,label\n", "other/c.txt": b"gamma\n"}
    for key, body in objects.items():
        s3.put_object(Bucket="team-data", Key=key, Body=body)
    task = tmp_path / "task.yaml"
    task.write_text(TASK)
    monkeypatch.chdir(tmp_path)
    target = resolve_target(task, TargetOptions(stack_name="buckets"))
    planned = plan_target(target)
    storage = planned.graph.fields.storage
    assert storage == {"~/data": "s3://team-data/train COPY",
                       "~/labels.csv": "s3://team-data/labels.csv COPY",
                       "~/all": "s3://team-data COPY",
                       "~/named": "s3://team-data COPY"}
    # The plan says what each node gets from the buckets (they are no resource on local).
    assert [(c.summary, c.nodes) for c in planned.plan.node_changes if c.field == "storage"] == [
        ("buckets: ~/all <- s3://team-data COPY; ~/data <- s3://team-data/train COPY; "
         "~/labels.csv <- s3://team-data/labels.csv COPY; ~/named <- s3://team-data COPY",
         ("head", "worker1"))]
    try:
        apply_target(target)
        for node in ("head", "worker1"):
            home = styx_home / "local" / target.cluster / node / "home"
            # A prefix lands as a folder, keys relative to it, as `aws s3 sync` lays it out.
            assert (home / "data" / "a.txt").read_bytes() == b"alpha\n"
            assert (home / "data" / "sub" / "b.txt").read_bytes() == b"beta\n"
            assert not (home / "data" / "c.txt").exists()
            # An object's whole key is that file.
            assert (home / "labels.csv").read_bytes() == b"id,label\n"
            assert (home / "all" / "other" / "c.txt").read_bytes() == b"gamma\n"
            # A named store (`name:` alone) that exists is read like a source: SkyPilot's reuse.
            assert (home / "named" / "train" / "a.txt").read_bytes() == b"alpha\n"
    finally:
        down_stack(target.ref)
    # The user's bucket is the user's: down never touches it.
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="team-data")["Contents"]}
    assert keys == set(objects)


@pytest.mark.parametrize(("mount", "error"), [
    ("~/data: s3://no-such-bucket/x",
     r"file_mounts ~/data: cannot read s3://no-such-bucket/x: .*NoSuchBucket"),
    ("~/made:\n    name: never-made\n    mode: COPY",
     r"file_mounts ~/made: cannot read s3://never-made: .*NoSuchBucket.*"
     r"\(the local cloud creates no bucket: make it first\)"),
])
def test_a_missing_bucket_is_one_clear_error(
        mount: str, error: str, tmp_path: Path, styx_home: Path, s3_endpoint: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from styx.errors import StyxError

    task = tmp_path / "task.yaml"
    task.write_text(f"file_mounts:\n  {mount}\nrun: echo\n")
    monkeypatch.chdir(tmp_path)
    target = resolve_target(task, TargetOptions(stack_name="nobucket"))
    try:
        with pytest.raises(StyxError, match=error):
            apply_target(target)
    finally:
        down_stack(target.ref)
