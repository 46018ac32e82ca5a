"""Outputs read from a file backend's checkpoint: the engine's answer, or None to ask it.

The equality with the engine's own `stack output` on a real stack is checked in
tests/integration/test_by_name.py; these cover the format's corners.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from styx.engine import StackRef, recorded_outputs

SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
          "ciphertext": "v1:abc"}  # fmt: skip


def _write(root: Path, outputs: dict[str, Any], *, version: int = 3, gz: bool = False,
           stack: str = "c1") -> StackRef:  # fmt: skip
    folder = root / ".pulumi" / "stacks" / "styx"
    folder.mkdir(parents=True, exist_ok=True)
    document = {"version": version, "checkpoint": {"stack": f"organization/styx/{stack}",
                "latest": {"resources": [
                    {"urn": "urn:pulumi:c1::styx::pulumi:pulumi:Stack::styx-c1",
                     "type": "pulumi:pulumi:Stack", "outputs": outputs},
                    {"urn": "x", "type": "styx-local:Node", "parent": "urn:...",
                     "outputs": {"other": 1}},
                ]}}}  # fmt: skip
    data = json.dumps(document).encode()
    name = f"{stack}.json.gz" if gz else f"{stack}.json"
    (folder / name).write_bytes(gzip.compress(data) if gz else data)
    return StackRef("styx", stack, root.as_uri())


def test_plain_outputs_come_back_as_recorded(tmp_path: Path) -> None:
    ref = _write(tmp_path, {"cluster": "c1", "nodes": [{"name": "head", "port": 22}]})
    assert recorded_outputs(ref) == {"cluster": "c1", "nodes": [{"name": "head", "port": 22}]}


def test_secrets_are_masked_wherever_they_sit(tmp_path: Path) -> None:
    ref = _write(tmp_path, {"token": SECRET, "nodes": [{"key": SECRET, "name": "head"}]})
    assert recorded_outputs(ref) == {"token": "[secret]",
                                     "nodes": [{"key": "[secret]", "name": "head"}]}
    assert "ciphertext" not in json.dumps(recorded_outputs(ref))


def test_a_compressed_checkpoint_is_read(tmp_path: Path) -> None:
    assert recorded_outputs(_write(tmp_path, {"a": 1}, gz=True)) == {"a": 1}


def test_a_destroyed_stack_has_no_outputs(tmp_path: Path) -> None:
    folder = tmp_path / ".pulumi" / "stacks" / "styx"
    folder.mkdir(parents=True)
    (folder / "c1.json").write_text(json.dumps({"version": 3, "checkpoint": {"latest": {}}}))
    assert recorded_outputs(StackRef("styx", "c1", tmp_path.as_uri())) == {}


def test_anything_unexpected_asks_the_engine(tmp_path: Path) -> None:
    assert recorded_outputs(_write(tmp_path, {"a": 1}, version=4)) is None
    assert recorded_outputs(StackRef("styx", "missing", tmp_path.as_uri())) is None
    assert recorded_outputs(StackRef("styx", "c1", "s3://bucket/prefix")) is None
    broken = _write(tmp_path, {"a": 1}, stack="broken")
    (tmp_path / ".pulumi" / "stacks" / "styx" / "broken.json").write_text("{ not json")
    assert recorded_outputs(broken) is None
