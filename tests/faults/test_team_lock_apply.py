"""Two people on one S3 stack (moto's real server): two STYX_HOMEs sharing the backend and
the passphrase, on this host. An apply in setup stops the other's apply, which names it; the
holder killed with -9, the next apply takes its stale lock over and says so; the unchanged
task then plans as "No changes" from either home."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from _moto import MotoServer
from faultkit import Styx, check, wait_for

pytestmark = pytest.mark.integration

TASK = """\
name: teamc
setup: |
  touch ~/setup-began
  while [ ! -f ~/release-setup ]; do sleep 0.2; done
  echo done > ~/setup-done
run: cat ~/setup-done
"""


@pytest.fixture
def homes(tmp_path: Path, aws_stand_in: MotoServer,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Styx, Styx]]:  # fmt: skip
    monkeypatch.setenv("STYX_PASSPHRASE", "shared by the team")
    monkeypatch.setenv("STYX_LOCK_LEASE", "5")
    work = tmp_path / "work"
    work.mkdir()
    bucket = aws_stand_in.bucket()
    (work / "team.yaml").write_text(
        f"name: teamc\ntask: teamc.yaml\nbackend: {aws_stand_in.backend_url(bucket, 'state')}\n"
    )
    a = Styx(tmp_path / "home-a", work, "teamc", TASK)
    b = Styx(tmp_path / "home-b", work, "teamc", TASK)
    for styx in (a, b):
        styx.home.mkdir()
    yield a, b
    a("down", "--stack-file", "team.yaml", "-y", "-q")
    for styx in (a, b):
        for pid in styx.processes():
            os.kill(pid, signal.SIGKILL)


def test_two_homes_never_interleave_and_agree_there_is_nothing_to_do(
    homes: tuple[Styx, Styx],
) -> None:
    a, b = homes
    first = a.start("apply", "--stack-file", "team.yaml", "-y")
    began = a.node_home("head") / "setup-began"
    wait_for(lambda: began.exists() or first.poll() is not None, what="setup to begin")
    assert first.poll() is None, first.communicate()

    # B, in its own home, sees A's lease in the backend: it stops, naming A.
    refused = b("apply", "--stack-file", "team.yaml", "-y")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "is locked by" in refused.stderr and f"pid {first.pid}, styx apply" in refused.stderr
    assert "Traceback" not in refused.stderr
    planned = b("plan", "--stack-file", "team.yaml")
    assert f"pid {first.pid}, styx apply" in planned.stdout + planned.stderr

    # A dies mid-setup with its lease held; B's next apply takes the stale lease over.
    first.send_signal(signal.SIGKILL)
    first.wait()
    (a.node_home("head") / "release-setup").touch()
    took = b("apply", "--stack-file", "team.yaml", "-y")
    check(took)
    assert "took over a stale lock" in took.stderr and f"pid {first.pid}" in took.stderr
    assert "setup" in took.stdout + took.stderr

    # The stack's inputs name no home: both plan the unchanged task as no change.
    for styx in (b, a):
        again = styx("plan", "--stack-file", "team.yaml", "--detailed-exitcode")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "No changes" in again.stdout
    ran = b("exec", "--stack-file", "team.yaml")
    assert "done" in check(ran)
