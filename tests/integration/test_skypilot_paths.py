"""A SkyPilot test task run from its repository's root syncs what `sky launch` would.

tests/test_yamls/minimal_test_quick_tests_core.yaml (from ../shared/skypilot-corpus) has
`workdir: .` and mounts `.` at ~/aws, and its job lists a file by its repository path: it
only passes when both resolve against the directory Styx runs in, as SkyPilot's do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from styx.clouds.overrides import ResourceOverrides
from styx.workflow import TargetOptions, apply_target, down_stack, resolve_target, submit_job

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

REPO = Path(__file__).parents[2]
CORPUS = REPO.parent / "shared" / "skypilot-corpus" / "tasks"
TASK = Path("tests/test_yamls/minimal_test_quick_tests_core.yaml")


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"SkyPilot corpus not found at {CORPUS}")
def test_workdir_dot_and_repo_relative_mounts_from_the_repo_root(
        tmp_path: Path, styx_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "skypilot"
    (repo / TASK).parent.mkdir(parents=True)
    # The task names an AWS instance type, which the local cloud refuses (as SkyPilot refuses
    # one cloud's instance type on another): the copy drops that one line and keeps the paths.
    original = (CORPUS / str(TASK).replace("/", "__")).read_text()
    assert "  instance_type: t3.small\n" in original
    (repo / TASK).write_text(original.replace("  instance_type: t3.small\n", ""))
    (repo / "README.md").write_text("the repository root\n")
    (repo / "sky").mkdir()
    (repo / "sky" / "core.py").write_text("x = 1\n")
    monkeypatch.chdir(repo)
    # The task names AWS; the same file runs on the local cloud with SkyPilot's --infra flag.
    options = TargetOptions(stack_name="sky-paths",
                            overrides=ResourceOverrides(infra="local"))
    target = resolve_target(TASK, options)
    assert target.spec.workdir == repo
    assert dict(target.spec.file_mounts) == {"~/aws": str(repo)}
    try:
        apply_target(target)
        client, job_id = submit_job(target)
        job = client.wait(job_id)
        assert job.ok, [(n.node, n.exit_code, n.error) for n in job.nodes]
        home = styx_home / "local" / target.cluster / "head" / "home"
        # SkyPilot's layout: the workdir (the repository root) in ~/sky_workdir, the mount at ~/aws.
        for folder in (home / "sky_workdir", home / "aws"):
            assert (folder / "README.md").read_text() == "the repository root\n"
            assert (folder / "sky" / "core.py").is_file()
            assert (folder / TASK).is_file()
    finally:
        down_stack(target.ref)
