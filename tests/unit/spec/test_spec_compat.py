"""SkyPilot's meaning, kept: config, network tiers, paths, pipelines, and every error at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from styx.errors import SpecError
from styx.spec import load_stack, load_task


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_config_applies_aws_labels_and_names_every_ignored_key(tmp_path: Path) -> None:
    task = _write(tmp_path / "t.yaml", """
resources:
  labels: {team: ml}
config:
  aws:
    labels: {team: infra, cost-center: "42"}
    remote_identity: LOCAL_CREDENTIALS
  kubernetes:
    pod_config: {}
  docker:
    run_options: [--cap-add=SYS_PTRACE]
  something_new: 1
run: echo hi
""")
    spec = load_task(task)
    # The task's own labels win over config's, as in SkyPilot.
    assert dict(spec.resources.labels) == {"cost-center": "42", "team": "ml"}
    assert all(dict(c.labels) == dict(spec.resources.labels) for c in spec.candidates)
    named = {w.split(" is ignored: ")[0]: w.split(" is ignored: ")[1] for w in spec.warnings}
    assert set(named) == {"config.aws.remote_identity", "config.kubernetes.pod_config",
                          "config.docker.run_options", "config.something_new"}
    assert "Kubernetes" in named["config.kubernetes.pod_config"]
    assert "container" in named["config.docker.run_options"]
    # Warnings are not what the task asks for: the fingerprint ignores their wording.
    assert "warnings" not in spec.to_dict()


def test_network_tier_is_parsed_case_insensitively(tmp_path: Path) -> None:
    task = _write(tmp_path / "t.yaml", "resources:\n  network_tier: BEST\n")
    assert load_task(task).resources.network_tier == "best"
    plain = _write(tmp_path / "p.yaml", "resources:\n  cpus: 2\n")
    # Unset, it leaves the canonical form (and so every fingerprint) as it was.
    assert "network_tier" not in load_task(plain).resources.to_dict()


def test_relative_paths_follow_the_working_directory(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    _write(repo / "src" / "train.py", "print(1)\n")
    task = _write(repo / "examples" / "app" / "task.yaml",
                  "workdir: .\nfile_mounts:\n  /code/train.py: ./src/train.py\n"
                  "  ./rel/train.py: src/train.py\n")
    monkeypatch.chdir(repo)
    spec = load_task(Path("examples/app/task.yaml"))
    # SkyPilot's meaning: `.` is where `sky` runs (the repository root), not the file's folder.
    assert spec.workdir == repo
    assert dict(spec.file_mounts) == {"/code/train.py": str(repo / "src" / "train.py"),
                                      "~/sky_workdir/rel/train.py": str(repo / "src" / "train.py")}
    monkeypatch.chdir(task.parent)
    with pytest.raises(SpecError, match=r"relative paths are relative to .*examples/app"):
        load_task(task)


def test_a_stack_file_pins_the_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    _write(repo / "data" / "x.txt", "x\n")
    _write(repo / "task.yaml", "file_mounts:\n  ~/x.txt: data/x.txt\n")
    stack = _write(repo / "stacks" / "ci.yaml", "name: ci\ntask: ../task.yaml\npaths_base: ..\n")
    monkeypatch.chdir(tmp_path)  # anywhere but the repository root
    loaded = load_stack(stack)
    assert loaded.paths_base == repo
    spec = load_task(loaded.task, stack=loaded)
    assert dict(spec.file_mounts) == {"~/x.txt": str(repo / "data" / "x.txt")}


def test_an_error_in_resources_does_not_hide_a_cloud_error_beside_it(tmp_path: Path) -> None:
    task = _write(tmp_path / "t.yaml",
                  "resources:\n  cpus: lots\n  infra: gcp\n  any_of:\n    - cloud: azure\n"
                  "      memory: [1]\n")
    with pytest.raises(SpecError) as caught:
        load_task(task)
    fields = [(i.line, i.field) for i in caught.value.issues]
    assert fields == [(2, "resources.cpus"), (3, "resources.infra"),
                      (5, "resources.any_of[0].cloud"), (6, "resources.any_of[0].memory")]


def test_every_task_of_a_pipeline_is_checked_and_refused_once(tmp_path: Path) -> None:
    task = _write(tmp_path / "p.yaml", """name: pipe
---
name: a
resources:
  cpus: many
run: echo a
---
name: b
resources:
  infra: gcp
  disk_tier: fast
run: echo b
""")
    with pytest.raises(SpecError) as caught:
        load_task(task)
    issues = caught.value.issues
    assert [(i.line, i.field) for i in issues] == [
        (3, None), (5, "resources.cpus"), (10, "resources.infra"), (11, "resources.disk_tier")]
    refusals = [i for i in issues if "pipeline of 2 tasks" in i.message]
    assert len(refusals) == 1 and "not supported by Styx yet" in refusals[0].message


def test_a_valid_pipeline_is_still_refused_with_one_message(tmp_path: Path) -> None:
    task = _write(tmp_path / "g.yaml",
                  "name: g\nexecution: parallel\n---\nrun: echo a\n---\nrun: echo b\n")
    with pytest.raises(SpecError) as caught:
        load_task(task)
    (issue,) = caught.value.issues
    assert "a job group of 2 tasks" in issue.message and issue.line == 4


def test_validate_shows_resolved_paths_from_the_repository_root(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from styx.cli import cli

    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    _write(repo / "data" / "x.txt", "x\n")
    _write(repo / "app" / "task.yaml", "workdir: .\nfile_mounts:\n  ~/x.txt: data/x.txt\n")
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(cli, ["validate", "app/task.yaml"])
    assert result.exit_code == 0, result.output
    assert "workdir      ./\n" in result.output
    assert "~/x.txt <- ./data/x.txt" in result.output


def test_service_and_pool_are_launched_without_as_sky_launch_does(tmp_path: Path) -> None:
    # sky/client/cli/command.py, `launch`: "Service section will be ignored when using
    # `sky launch`" (a pool is a service with pool=True there, sky/task.py).
    task = _write(tmp_path / "s.yaml", "name: s\nrun: echo hi\nservice:\n  readiness_probe: /\n"
                                       "  replicas: 2\n")
    spec = load_task(task)
    assert spec.warnings == (f"{task}:3:1: service: is used by `sky serve up`; styx launches "
                             "the task without it, as `sky launch` does",)
    pool = _write(tmp_path / "p.yaml", "pool:\n  workers: 2\nsetup: echo hi\n")
    assert [w.split(": ", 2)[1:] for w in load_task(pool).warnings] == [
        ["pool", "is used by `sky jobs pool apply`; styx launches the task without it, as "
                 "`sky launch` does"]]
    # Read, not skipped: a service that is not a mapping, or both at once, is an error there
    # (SkyPilot's Task.from_yaml_config: "Cannot set both service and pool").
    both = _write(tmp_path / "b.yaml", "service: {readiness_probe: /}\npool: {workers: 2}\n")
    with pytest.raises(SpecError, match=r"b\.yaml:2:1: pool: give either service or pool"):
        load_task(both)
    bad = _write(tmp_path / "x.yaml", "service: /health\n")
    with pytest.raises(SpecError, match=r"x\.yaml:1:10: service: expected a mapping"):
        load_task(bad)
