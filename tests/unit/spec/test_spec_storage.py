"""Storage mounts and bucket URLs in file_mounts, read as SkyPilot reads them (or refused there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from styx.errors import SpecError
from styx.spec import StorageMount, load_task


def _load(tmp_path: Path, text: str, **envs: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "t.yaml"
    path.write_text(text)
    return load_task(path, env_overrides=envs)


def test_each_form_becomes_a_bucket_and_how_it_lands(tmp_path: Path) -> None:
    spec = _load(tmp_path, """\
envs:
  BUCKET: team-ckpt
  STORE: S3
file_mounts:
  /data: s3://public-data/covid/run1/
  ./out:
    name: $BUCKET
    store: $STORE
    mode: mount_cached
  ~/scratch:
    name: my-scratch
    persistent: false
    mode: COPY
  /src:
    source: s3://users-bucket/code
""")
    assert spec.file_mounts == {}
    assert dict(spec.storage) == {
        # A URL source is copied, as SkyPilot copies cloud URLs in file_mounts.
        "/data": StorageMount(bucket="public-data", prefix="covid/run1", mode="COPY"),
        # Relative remote paths land under ~/sky_workdir; envs fill name and store.
        "~/sky_workdir/out": StorageMount(bucket="team-ckpt", mode="MOUNT_CACHED", create=True),
        "~/scratch": StorageMount(bucket="my-scratch", mode="COPY", create=True,
                                  persistent=False),
        # MOUNT is SkyPilot's default mode; a source bucket is the user's, never created.
        "/src": StorageMount(bucket="users-bucket", prefix="code", mode="MOUNT"),
    }
    assert spec.storage["/data"].url == "s3://public-data/covid/run1"
    assert spec.to_dict()["storage"]["~/scratch"] == {
        "url": "s3://my-scratch", "mode": "COPY", "create": True, "persistent": False}


def test_a_task_without_buckets_keeps_its_fingerprint_form(tmp_path: Path) -> None:
    assert "storage" not in _load(tmp_path, "run: echo\n").to_dict()


@pytest.mark.parametrize(("mount", "where", "words"), [
    ("/d: gs://b/x", "3:7", "not supported by Styx yet: gs:// sources (gcs)"),
    ("/d: {name: b, store: r2}", "3:24", "store 'r2' (r2)"),
    ("/d: {source: oci://b@r}", "3:16", "oci:// sources (oci)"),
    ("/d: {name: b, source: ./data}", "3:25", "a local folder as a storage source"),
    ("/d: {name: b, source: [a, b]}", "3:25", "a local folder as a storage source"),
    ("/d: {mode: MOUNT}", "3:3", "neither name nor source"),
    ("/d: {name: b, _bucket_sub_path: x}", "3:35", "internal storage field '_bucket_sub_path'"),
    ("/d: {name: a-bucket, source: s3://other}", "3:14", "name different buckets"),
    ("/d: {name: b, mode: SYNC}", "3:23", "expected one of MOUNT, COPY, MOUNT_CACHED"),
    ("/d: s3://Bad_Name/x", "3:7", "invalid S3 bucket name 'Bad_Name'"),
    ("/d: {name: b, colour: red}", "3:17", "unknown field 'colour'"),
])
def test_what_styx_cannot_read_is_refused_in_place(tmp_path: Path, mount: str, where: str,
                                                    words: str) -> None:
    with pytest.raises(SpecError) as caught:
        _load(tmp_path, f"run: echo\nfile_mounts:\n  {mount}\n")
    (issue,) = caught.value.issues
    assert str(issue).startswith(f"{tmp_path / 't.yaml'}:{where}: file_mounts./d"), str(issue)
    assert words in str(issue)


def test_a_bucket_and_a_file_on_one_destination_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("x")
    with pytest.raises(SpecError, match="mounted twice"):
        _load(tmp_path, f"file_mounts:\n  ~/sky_workdir/x: {tmp_path / 'x'}\n"
                        "  ./x: s3://bucket/x\n")


def test_validate_lists_each_bucket_and_how_it_lands(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from styx.cli import cli

    (tmp_path / "t.yaml").write_text("file_mounts:\n  /data: s3://pub/x\n  /ckpt:\n"
                                     "    name: my-ckpt\n    persistent: false\nrun: echo\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["validate", "t.yaml"])
    assert result.exit_code == 0, result.output
    assert "file_mounts  2\n" in result.output
    assert "/data <- s3://pub/x (COPY)\n" in result.output
    assert "/ckpt <- s3://my-ckpt (MOUNT, created by Styx, deleted by down)\n" in result.output
