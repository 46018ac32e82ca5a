"""Cluster access from stack outputs; AWS host keys come from the console, never TOFU."""

from __future__ import annotations

from pathlib import Path

import pytest

import styx.clouds.aws._cloud as aws
from styx.errors import NodeError
from styx.workflow._nodes import cluster_access

NODE = {"name": "head", "rank": 0, "address": "203.0.113.7", "port": 22, "user": "ubuntu"}


def test_aws_nodes_get_their_host_key_from_the_instance_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, str]] = []

    def console_keys(instance_id: str, region: str) -> tuple[str, ...]:
        asked.append((instance_id, region))
        return ("ecdsa-sha2-nistp256 AAAAE2", "ssh-ed25519 AAAAC3")

    monkeypatch.setattr(aws, "wait_for_host_keys", console_keys)
    outputs = {
        "cloud": "aws",
        "region": "us-east-1",
        "cluster": "c",
        "private_key_path": str(tmp_path / "id"),
        "nodes": [{**NODE, "host_public_key": "", "instance_id": "i-0abc"}],
    }
    access = cluster_access(outputs, tmp_path, "c")
    assert asked == [("i-0abc", "us-east-1")]
    assert access.nodes[0].host_public_key == "ssh-ed25519 AAAAC3"


def test_local_nodes_keep_the_key_their_provider_read(tmp_path: Path) -> None:
    outputs = {
        "cloud": "local",
        "cluster": "c",
        "private_key_path": str(tmp_path / "id"),
        "nodes": [{**NODE, "host_public_key": "ssh-ed25519 LOCAL"}],
    }
    assert cluster_access(outputs, tmp_path, "c").nodes[0].host_public_key == "ssh-ed25519 LOCAL"


def test_a_stack_without_nodes_says_to_apply_first(tmp_path: Path) -> None:
    with pytest.raises(NodeError, match="run `styx apply` first"):
        cluster_access({}, tmp_path, "c")
