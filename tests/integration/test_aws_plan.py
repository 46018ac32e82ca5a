"""`styx plan` on AWS where the engine has no AWS provider plugin: one line that says how."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from styx.clouds.aws import PROVIDER_VERSION

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]


def test_plan_without_the_aws_plugin_is_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "STYX_HOME": str(tmp_path / "home"),
        # An empty plugin cache, and no download: the machine has no AWS plugin, whatever
        # this one has or can fetch.
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    done = subprocess.run(
        [sys.executable, "-m", "styx", "plan", str(ROOT / "examples" / "aws_cpu.yaml")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=110,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: the engine has no `aws` provider plugin; install it with "
        f"`pulumi plugin install resource aws {PROVIDER_VERSION}`"
    ], done.stderr
