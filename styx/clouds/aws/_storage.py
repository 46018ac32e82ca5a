"""A task's buckets on AWS (pure): the buckets Styx creates, and the nodes' access to them.

SkyPilot gives its nodes an instance profile and lets them read and write the task's
buckets with it; Styx does the same. A bucket named by `source: s3://...` is the user's: it is
only granted, never declared, so `down` cannot touch it. A bucket named by `name:` alone is
Styx's: an S3 bucket in the plan, kept after `down` unless `persistent: false` (SkyPilot's
rule), when it is deleted with what it holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from styx.graph import ResourceDecl, ref
from styx.spec import Spec

__all__ = ["KIND_BUCKET", "KIND_PROFILE", "PERSISTENT_TAG", "storage_decls"]

KIND_BUCKET: Final = "aws:s3/bucket:Bucket"
KIND_ROLE: Final = "aws:iam/role:Role"
KIND_ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
KIND_PROFILE: Final = "aws:iam/instanceProfile:InstanceProfile"
# The program reads it to keep a persistent bucket out of `down` (retain_on_delete).
PERSISTENT_TAG: Final = "styx:persistent"

_ASSUME_EC2: Final = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                   "Principal": {"Service": "ec2.amazonaws.com"}}],
}, sort_keys=True)


def storage_decls(spec: Spec, named: Callable[[str], str]
                  ) -> tuple[list[ResourceDecl], Mapping[str, Any] | None]:
    """The buckets to create and the instance profile; the profile's name for the instances."""
    if not spec.storage:
        return [], None
    decls: list[ResourceDecl] = []
    buckets: dict[str, bool] = {}  # bucket -> written to (a MOUNT may write; a COPY reads)
    for mount in spec.storage.values():
        buckets[mount.bucket] = buckets.get(mount.bucket, False) or mount.mode != "COPY"
    created: dict[str, bool] = {}
    for mount in spec.storage.values():
        if mount.create:
            created[mount.bucket] = created.get(mount.bucket, True) and mount.persistent
    for bucket, persistent in sorted(created.items()):
        decls.append(ResourceDecl(KIND_BUCKET, named(f"bucket-{bucket}"), {
            "bucket": bucket,
            # A bucket that outlives the cluster is never emptied by Styx.
            "force_destroy": not persistent,
            "tags": {"Name": bucket, PERSISTENT_TAG: "true" if persistent else "false"},
        }))
    role, profile = named("nodes-role"), named("nodes-profile")
    decls += [
        ResourceDecl(KIND_ROLE, role, {"assume_role_policy": _ASSUME_EC2,
                                       "tags": {"Name": role}}),
        ResourceDecl(KIND_ROLE_POLICY, named("nodes-buckets"), {
            "role": ref(role, "id"),
            "policy": _policy(buckets),
        }),
        ResourceDecl(KIND_PROFILE, profile, {"role": ref(role, "name"),
                                             "tags": {"Name": profile}}),
    ]
    return decls, ref(profile, "name")


def _policy(buckets: Mapping[str, bool]) -> str:
    """Read every bucket; write those a mount may write (least privilege, by bucket)."""
    names = sorted(buckets)
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
         "Resource": [f"arn:aws:s3:::{b}" for b in names]},
        {"Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": [f"arn:aws:s3:::{b}/*" for b in names]},
    ]
    written = [b for b in names if buckets[b]]
    if written:
        statements.append({"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject",
                                                         "s3:AbortMultipartUpload"],
                           "Resource": [f"arn:aws:s3:::{b}/*" for b in written]})
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
