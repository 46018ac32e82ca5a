"""S3 backends on moto's real server: every URL form the stack file's `backend` takes reaches
the same engine and Styx's own records, and `styx status --backend URL` lists its stacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _moto import MotoServer

from styx.cli import main
from styx.engine import StackRef, list_stacks, open_stack
from styx.engine._backend import BackendStore, engine_backend_url, parse_s3
from styx.spec import load_stack

pytestmark = pytest.mark.integration


@pytest.fixture
def team(aws_stand_in: MotoServer, styx_home: Path,
         monkeypatch: pytest.MonkeyPatch) -> MotoServer:  # fmt: skip
    monkeypatch.setenv("STYX_PASSPHRASE", "shared by the team")
    return aws_stand_in


def _status(url: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    with pytest.raises(SystemExit) as done:
        # -a: a stack with no nodes yet is DOWN, which status hides by default.
        main(["status", "--backend", url, "--json", "-a"])
    captured = capsys.readouterr()
    assert done.value.code == 0, captured.err
    rows: list[dict[str, object]] = json.loads(captured.out)
    return rows


@pytest.mark.parametrize("form", ["prefix+endpoint", "bucket+endpoint", "bucket+env"])
def test_each_url_form_holds_stacks_that_status_lists(
    team: MotoServer, form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bucket = team.bucket()
    if form == "prefix+endpoint":
        url = team.backend_url(bucket, "teams/ml")
    elif form == "bucket+endpoint":
        url = team.backend_url(bucket)
    else:  # the endpoint from AWS_ENDPOINT_URL_S3, as the AWS tools read it
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", team.url)
        url = f"s3://{bucket}"
    stack_file = tmp_path / "prod.yaml"
    stack_file.write_text(f"name: prod\ntask: task.yaml\nbackend: {url}\n")
    assert load_stack(stack_file).backend_url == url  # the schema takes every form

    assert _status(url, capsys) == []
    open_stack(StackRef("styx", "prod", url))  # made by the engine in the bucket
    assert [s.name for s in list_stacks("styx", url)] == ["prod"]
    assert [row["cluster"] for row in _status(url, capsys)] == ["prod"]
    keys = [o["Key"] for o in team.client().list_objects_v2(Bucket=bucket)["Contents"]]
    prefix = "teams/ml/" if form == "prefix+endpoint" else ""
    assert f"{prefix}.pulumi/stacks/styx/prod.json" in keys

    # Styx's own records go beside the engine's, under the same prefix.
    store = BackendStore(url, "styx/prod/locks")
    assert store.create("exclusive.json", "{}")
    assert f"{prefix}.styx/styx/prod/locks/exclusive.json" in [
        o["Key"] for o in team.client().list_objects_v2(Bucket=bucket)["Contents"]]


def test_status_lists_every_backend_its_stack_files_name(
    team: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    urls = {}
    for name, prefix in (("prod", "teams/prod"), ("research", "teams/research")):
        urls[name] = team.backend_url(team.bucket(), prefix)
        (tmp_path / f"{name}.yaml").write_text(
            f"name: {name}\ntask: task.yaml\nbackend: {urls[name]}\n")
        open_stack(StackRef("styx", name, urls[name]))
    files = ["--stack-file", str(tmp_path / "prod.yaml"),
             "--stack-file", str(tmp_path / "research.yaml")]

    def status(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as done:
            main(["status", *files, "--json", "-a", *args])
        captured = capsys.readouterr()
        return int(done.value.code or 0), captured.out, captured.err

    code, out, err = status()
    assert code == 0, err
    assert sorted(row["cluster"] for row in json.loads(out)) == ["prod", "research"]
    code, out, _ = status("research")
    assert [row["cluster"] for row in json.loads(out)] == ["research"]
    code, _, err = status("nope")
    assert code == 1 and "no cluster named 'nope'; known clusters: prod, research" in err


@pytest.mark.parametrize("kind", ["s3", "file"])
def test_records_change_only_when_unchanged_since_read(
    kind: str, aws_stand_in: MotoServer, tmp_path: Path
) -> None:
    """The three atomic steps the lease is built on, against the real servers."""
    url = (aws_stand_in.backend_url(aws_stand_in.bucket()) if kind == "s3"
           else (tmp_path / "state").as_uri())  # fmt: skip
    store = BackendStore(url, "styx/s/locks")
    assert store.read("a.json") is None
    assert store.create("a.json", "one")
    assert not store.create("a.json", "two")  # If-None-Match: one creator wins
    first = store.read("a.json")
    assert first is not None and first.text == "one" and first.age < 60
    assert store.replace("a.json", "three", first.tag)
    assert not store.replace("a.json", "four", first.tag)  # If-Match: the tag moved on
    assert not store.delete("a.json", first.tag)
    now = store.read("a.json")
    assert now is not None and now.text == "three"
    assert store.names() == ["a.json"]
    assert store.delete("a.json", now.tag) and store.read("a.json") is None


def test_url_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    real = parse_s3("s3://bucket/a/b")
    assert (real.bucket, real.prefix, real.endpoint, real.region, real.path_style) == (
        "bucket", "a/b", None, None, False)
    assert engine_backend_url("s3://bucket/a/b") == "s3://bucket/a/b"
    local = parse_s3("s3://bucket?endpoint=127.0.0.1:9000&disableSSL=true&region=eu-west-1")
    assert (local.prefix, local.endpoint, local.region, local.path_style) == (
        "", "http://127.0.0.1:9000", "eu-west-1", True)
    given = "s3://b/p?endpoint=http://127.0.0.1:9000&region=us-east-1"
    assert engine_backend_url(given) == given + "&use_path_style=true"
    assert engine_backend_url(given + "&s3ForcePathStyle=true") == given + "&s3ForcePathStyle=true"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000")
    assert parse_s3("s3://bucket").endpoint == "http://127.0.0.1:9000"
    assert engine_backend_url("s3://bucket") == "s3://bucket?use_path_style=true"


def test_the_engines_lock_in_s3_is_seen_and_released(team: MotoServer) -> None:
    """An engine lock left in the bucket (as a killed engine leaves it, in its own format) is
    listed with its holder and removed by `unlock` through the engine (`pulumi cancel`)."""
    from styx.engine import StackOps
    from styx.workflow._unlock import stack_locks, unlock_stack

    bucket = team.bucket()
    url = team.backend_url(bucket, "state")
    ref = StackRef("styx", "prod", url)
    ops = StackOps(open_stack(ref))
    key = "state/.pulumi/locks/organization/styx/prod/5b0c1d2e.json"
    team.client().put_object(Bucket=bucket, Key=key, Body=json.dumps({
        "pid": 2**22 + 7, "username": "alice", "hostname": "laptop",
        "timestamp": "2026-11-30T10:00:00Z"}).encode())  # fmt: skip
    (lock,) = ops.engine_locks()
    assert (lock.user, lock.host, lock.key) == ("alice", "laptop", f"s3://{bucket}/{key}")
    (held,) = [h for h in stack_locks(ref) if h.kind == "engine"]
    assert held.lock_id == "5b0c1d2e" and not held.gone  # another host: it may be at work
    result = unlock_stack(ref, "5b0c1d2e", force=True)
    assert [r.lock_id for r in result.released] == ["5b0c1d2e"]
    assert ops.engine_locks() == []
