"""A task's buckets on AWS, under Pulumi's mocks (the AWS provider cannot run here).

Buckets Styx creates are S3 resources in the plan; a persistent one is retained by `down`;
a user's bucket (`source: s3://...`) is never declared, only granted to the nodes through an
instance profile, as SkyPilot's nodes reach their buckets. Nothing here ran against AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from styx.clouds.aws import AwsSettings, compile_aws
from styx.spec import Spec
from tests.unit.aws.test_aws_program import run_program

TASK = """\
resources:
  cloud: aws
  cpus: 4
  image_id: ami-0abc
file_mounts:
  /data: s3://users-data/train
  /ckpt:
    name: my-checkpoints
    mode: MOUNT
  /scratch:
    name: my-scratch
    persistent: false
    mode: COPY
"""


def test_created_buckets_are_resources_and_the_users_bucket_is_not(
        task: Callable[[str], Spec], styx_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = compile_aws(task(TASK), "st", AwsSettings())
    run = run_program(graph, monkeypatch)
    buckets = {c.inputs["bucket"]: c for c in run.mocks.of_type("aws:s3/bucket:Bucket")}
    assert set(buckets) == {"my-checkpoints", "my-scratch"}  # never users-data
    # Persistent (SkyPilot's default): `down` forgets it and keeps what it holds.
    assert buckets["my-checkpoints"].inputs["forceDestroy"] is False
    assert buckets["my-checkpoints"].name in run.mocks.monitor.retained
    # persistent: false: deleted by down, with its objects.
    assert buckets["my-scratch"].inputs["forceDestroy"] is True
    assert buckets["my-scratch"].name not in run.mocks.monitor.retained
    for created in buckets.values():
        assert created.provider is not None and "::st-aws::" in created.provider


def test_nodes_reach_the_buckets_through_an_instance_profile(
        task: Callable[[str], Spec], styx_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = compile_aws(task(TASK), "st", AwsSettings())
    run = run_program(graph, monkeypatch)
    (role,) = run.mocks.of_type("aws:iam/role:Role")
    assume = json.loads(role.inputs["assumeRolePolicy"])
    assert assume["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    (policy,) = run.mocks.of_type("aws:iam/rolePolicy:RolePolicy")
    statements = json.loads(policy.inputs["policy"])["Statement"]
    listed, read, written = statements
    assert listed["Resource"] == ["arn:aws:s3:::my-checkpoints", "arn:aws:s3:::my-scratch",
                                  "arn:aws:s3:::users-data"]
    assert "s3:GetObject" in read["Action"]
    # Only the MOUNT may write; a COPY only reads.
    assert written["Resource"] == ["arn:aws:s3:::my-checkpoints/*"]
    (profile,) = run.mocks.of_type("aws:iam/instanceProfile:InstanceProfile")
    (instance,) = run.mocks.of_type("aws:ec2/instance:Instance")
    assert instance.inputs["iamInstanceProfile"] == f"{profile.name}-1a2b3c"  # its name


def test_a_task_without_buckets_has_no_profile(task: Callable[[str], Spec], styx_home: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    graph = compile_aws(task("resources:\n  cloud: aws\n  cpus: 4\n  image_id: ami-0abc\n"),
                        "plain", AwsSettings())
    kinds = {d.kind for d in graph.resources}
    assert not kinds & {"aws:s3/bucket:Bucket", "aws:iam/role:Role"}
    run = run_program(graph, monkeypatch)
    (instance,) = run.mocks.of_type("aws:ec2/instance:Instance")
    assert "iamInstanceProfile" not in instance.inputs
