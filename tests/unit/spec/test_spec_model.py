"""The model's values and the parsers of SkyPilot's value forms."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from styx.spec import Accelerator, Autostop, Bound, FrozenMap, PortRange, Secret, load_task
from styx.spec._parse import (
    parse_accelerators,
    parse_autostop,
    parse_cloud,
    parse_cpus,
    parse_disk_size,
    parse_infra,
    parse_memory,
    parse_minutes,
    parse_ports,
)


def test_bound() -> None:
    at_least = parse_cpus("4+")
    assert at_least == Bound(4, True)
    assert at_least.satisfied_by(4) and at_least.satisfied_by(16)
    assert not at_least.satisfied_by(2)
    exact = parse_cpus(4)
    assert exact == Bound(4, False)
    assert exact.satisfied_by(4) and not exact.satisfied_by(8)
    assert str(at_least) == "4+" and str(exact) == "4" and str(parse_cpus("0.5")) == "0.5"


@pytest.mark.parametrize(("text", "gib", "at_least"), [
    (16, 16, False), ("16+", 16, True), ("32GB", 32, False), ("512MB", 0.5, False),
    ("1TB+", 1024, True), ("64gi", 64, False), ("2048Mi+", 2, True),
])
def test_memory(text: object, gib: float, at_least: bool) -> None:
    assert parse_memory(text) == Bound(gib, at_least)


@pytest.mark.parametrize("text", ["0", "-1", "16XB", "lots", "16G", float("inf")])
def test_memory_rejects(text: object) -> None:
    with pytest.raises(ValueError):
        parse_memory(text)


@pytest.mark.parametrize(("text", "minutes"), [
    (10, 10), ("10", 10), ("30m", 30), ("2h", 120), ("1d", 1440), ("1W", 10080),
])
def test_minutes(text: object, minutes: int) -> None:
    assert parse_minutes(text) == minutes


def test_autostop_forms() -> None:
    assert parse_autostop(False) is None
    assert parse_autostop(True) == Autostop(5, False, "jobs_and_ssh")
    assert parse_autostop("2h") == Autostop(120)
    assert parse_autostop({"idle_minutes": 10, "down": True, "wait_for": "none"}) == \
        Autostop(10, True, "none")
    assert parse_autostop({"down": True}) == Autostop(5, True)


@pytest.mark.parametrize(("text", "gb"), [(100, 100), ("100Gi", 100), ("100GB", 100),
                                          ("1Ti", 1024), ("2048Mi", 2)])
def test_disk_size(text: object, gb: int) -> None:
    assert parse_disk_size(text) == gb


def test_ports_merge_and_sort() -> None:
    assert parse_ports([8080, "8000-8010", 8005, "8011", 22]) == (
        PortRange(22, 22), PortRange(8000, 8011), PortRange(8080, 8080))
    assert str(PortRange(8000, 8010)) == "8000-8010"
    assert parse_ports(None) == ()


@pytest.mark.parametrize(("value", "expected", "ordered"), [
    ("V100", ["V100:1"], False),
    ("A100:8", ["A100:8"], False),
    ("T4:0.5", ["T4:0.5"], False),
    ("tpu-v2-8", ["tpu-v2-8:1"], False),
    ({"V100": 2}, ["V100:2"], False),
    ({"V100:1": None, "A100:1": None}, ["A100:1", "V100:1"], False),
    ("{V100:1, A100:1}", ["A100:1", "V100:1"], False),
    ("{'V100:1', 'A100:1'}", ["A100:1", "V100:1"], False),
    (["V100:1", "A100:1"], ["V100:1", "A100:1"], True),
    ("[V100:1, A100:1]", ["V100:1", "A100:1"], True),
    (["V100:1"], ["V100:1"], False),
])
def test_accelerator_forms(value: object, expected: list[str], ordered: bool) -> None:
    choices, is_ordered = parse_accelerators(value)
    assert [str(c) for c in choices] == expected
    assert is_ordered is ordered


@pytest.mark.parametrize("value", ["V100:abc", "V100:0", "V100:-1", "80GB+", "{}", ":2",
                                   "V100:1:2"])
def test_accelerator_rejects(value: str) -> None:
    with pytest.raises(ValueError):
        parse_accelerators(value)


def test_infra_and_cloud() -> None:
    assert parse_infra("aws") == ("aws", None, None)
    assert parse_infra("AWS/us-east-1") == ("aws", "us-east-1", None)
    assert parse_infra("aws/us-east-1/us-east-1a") == ("aws", "us-east-1", "us-east-1a")
    assert parse_infra("*/us-east-1") == (None, "us-east-1", None)
    assert parse_infra("local") == ("local", None, None)
    with pytest.raises(ValueError, match="not supported by Styx yet"):
        parse_infra("gcp/us-central1")
    with pytest.raises(ValueError, match="not supported by Styx yet"):
        parse_infra("k8s/a/b/c")
    with pytest.raises(ValueError, match="did you mean 'aws'"):
        parse_cloud("aws2")


def test_secret_never_shows_itself() -> None:
    secret = Secret("hunter2")
    assert str(secret) == "[secret]" and repr(secret) == "[secret]"
    assert f"{secret}" == "[secret]" and "hunter2" not in repr([secret, {"k": secret}])
    assert secret.reveal() == "hunter2"
    assert secret == Secret("hunter2") and secret != Secret("other")
    assert hash(secret) == hash(Secret("hunter2"))


def test_frozen_map() -> None:
    mapping = FrozenMap({"b": "1", "a": "2"})
    assert list(mapping) == ["b", "a"]
    assert mapping == {"a": "2", "b": "1"}
    assert hash(mapping) == hash(FrozenMap({"a": "2", "b": "1"}))
    with pytest.raises(TypeError):
        mapping["c"] = "3"  # type: ignore[index]


def _write(tmp_path: Path, data: object) -> Path:
    task = tmp_path / "task.yaml"
    task.write_text(json.dumps(data))
    return task


def test_spec_is_frozen_and_redacts_secrets(tmp_path: Path) -> None:
    spec = load_task(_write(tmp_path, {"secrets": {"TOKEN": "hunter2"}, "envs": {"A": "1"}}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.num_nodes = 3  # type: ignore[misc]
    assert spec.secrets["TOKEN"].reveal() == "hunter2"
    text = json.dumps(spec.to_dict())
    assert "hunter2" not in text and '"TOKEN": "[secret]"' in text
    assert "hunter2" not in repr(spec)


def test_fingerprint(tmp_path: Path) -> None:
    one = load_task(_write(tmp_path, {"secrets": {"TOKEN": "a"}, "run": "echo"}))
    again = load_task(_write(tmp_path, {"run": "echo", "secrets": {"TOKEN": "a"}}))
    other = load_task(_write(tmp_path, {"secrets": {"TOKEN": "b"}, "run": "echo"}))
    assert one.fingerprint() == again.fingerprint()
    assert one.fingerprint() != other.fingerprint()
    assert len(one.fingerprint()) == 64


def test_fingerprint_is_the_same_in_another_clone(tmp_path: Path) -> None:
    prints = []
    for clone in ("one", "two"):
        (tmp_path / clone / "code").mkdir(parents=True)
        (tmp_path / clone / "data.txt").write_text("x")
        task = tmp_path / clone / "task.yaml"
        task.write_text("workdir: code\nfile_mounts:\n  /data.txt: data.txt\nrun: echo\n")
        prints.append(load_task(task).fingerprint())
    assert prints[0] == prints[1]
    (tmp_path / "two" / "other").mkdir()
    moved = tmp_path / "two" / "task.yaml"
    moved.write_text("workdir: other\nfile_mounts:\n  /data.txt: data.txt\nrun: echo\n")
    assert load_task(moved).fingerprint() != prints[0]


def test_candidates(tmp_path: Path) -> None:
    plain = load_task(_write(tmp_path, {"resources": {"cpus": 2}}))
    assert plain.candidates == (plain.resources,) and not plain.candidates_ordered

    chosen = load_task(_write(tmp_path, {"resources": {"accelerators": ["V100:1", "A100:1"]}}))
    assert [str(c.accelerator) for c in chosen.candidates] == ["V100:1", "A100:1"]
    assert chosen.candidates_ordered and chosen.resources.accelerator == Accelerator("V100", 1)

    product = load_task(_write(tmp_path, {"resources": {
        "accelerators": "{V100:1, A100:1}", "labels": {"a": "1"},
        "any_of": [{"use_spot": True, "labels": {"b": "2"}}, {"cloud": "aws"}]}}))
    assert [(c.use_spot, c.cloud, str(c.accelerator)) for c in product.candidates] == [
        (True, None, "A100:1"), (True, None, "V100:1"),
        (False, "aws", "A100:1"), (False, "aws", "V100:1")]
    assert dict(product.candidates[0].labels) == {"a": "1", "b": "2"}
    assert not product.candidates_ordered

    ordered = load_task(_write(tmp_path, {"resources": {
        "infra": "aws/us-east-1", "ordered": [{"region": "us-west-2"}, {"infra": "local"}]}}))
    assert [(c.cloud, c.region) for c in ordered.candidates] == [
        ("aws", "us-west-2"), ("local", None)]
    assert ordered.candidates_ordered


def test_entries_override_location_parts(tmp_path: Path) -> None:
    spec = load_task(_write(tmp_path, {"resources": {
        "cloud": "aws", "region": "us-east-1", "zone": "us-east-1a",
        "any_of": [{"region": "us-west-2"}, {"cloud": "local"}, {"cloud": "AWS"},
                   {"infra": "aws"}, {"zone": "us-east-1b"}]}}))
    assert [(c.cloud, c.region, c.zone) for c in spec.candidates] == [
        ("aws", "us-west-2", None), ("local", None, None), ("aws", "us-east-1", "us-east-1a"),
        ("aws", None, None), ("aws", "us-east-1", "us-east-1b")]


def test_spec_pickles_without_stale_hashes(tmp_path: Path) -> None:
    import pickle

    spec = load_task(_write(tmp_path, {"resources": {"labels": {"a": "b"}},
                                       "secrets": {"S": "v"}}))
    hash(spec.resources)
    again = pickle.loads(pickle.dumps(spec))
    assert again == spec and again.secrets["S"].reveal() == "v"
    assert again.resources.labels._hash is None  # type: ignore[attr-defined]
