"""The team-wide lease in the backend (moto's real S3 server, and a file backend), held by
real processes: named when taken, taken over once a stopped holder's lease runs out or a
killed one's pid is gone, released at once by `unlock` with its id, shared vs exclusive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _moto import MotoServer
from faultkit import wait_for

from styx.engine import StackRef
from styx.errors import StackLockedError
from styx.workflow._lease import hold_lease, leases
from styx.workflow._unlock import stack_locks, unlock_stack

pytestmark = pytest.mark.integration

LEASE = 1.5  # seconds: STYX_LOCK_LEASE, short so a stopped holder's lease runs out soon


@pytest.fixture(params=["s3", "file"])
def ref(request: pytest.FixtureRequest, tmp_path: Path, styx_home: Path,
        monkeypatch: pytest.MonkeyPatch) -> StackRef:  # fmt: skip
    monkeypatch.setenv("STYX_LOCK_LEASE", str(LEASE))
    if request.param == "file":
        return StackRef("styx", "team", (tmp_path / "shared-state").as_uri())
    moto: MotoServer = request.getfixturevalue("aws_stand_in")
    return StackRef("styx", "team", moto.backend_url(moto.bucket(), "state"))


@pytest.fixture
def holder(ref: StackRef, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the stack's lease (exclusive, 'apply') until it is killed."""
    ready = tmp_path / "held"
    code = (
        "import sys, time; from pathlib import Path\n"
        "from styx.engine import StackRef\n"
        "from styx.workflow._lease import hold_lease\n"
        f"ref = StackRef('styx', 'team', {ref.backend_url!r})\n"
        "with hold_lease(ref, 'apply'):\n"
        f"    Path({str(ready)!r}).touch()\n"
        "    time.sleep(600)\n"
    )
    with (tmp_path / "holder.err").open("w") as err:
        proc = subprocess.Popen([sys.executable, "-c", code], stderr=err, text=True,
                                env={**os.environ, "PYTHONPATH": os.getcwd()})  # fmt: skip
    wait_for(lambda: ready.exists() or proc.poll() is not None, 60, "the holder")
    assert proc.poll() is None, (tmp_path / "holder.err").read_text()
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_a_live_holder_is_named_and_keeps_its_lease(
    ref: StackRef, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(StackLockedError) as refused, hold_lease(ref, "apply"):
        pass
    assert f"pid {holder.pid}, styx apply" in str(refused.value)
    # Past several leases the heartbeat keeps it: still refused, never taken over.
    told: list[str] = []
    with pytest.raises(StackLockedError), hold_lease(ref, "down", wait=3 * LEASE,
                                                      notify=told.append):  # fmt: skip
        pass
    assert told and f"pid {holder.pid}" in told[0] and "waiting" in told[0]
    # Jobs (shared) are kept out too.
    with pytest.raises(StackLockedError), hold_lease(ref, "exec", shared=True):
        pass


def test_a_stopped_holder_is_taken_over_after_its_lease(
    ref: StackRef, holder: subprocess.Popen[str]
) -> None:
    """SIGSTOP: its pid lives, but it renews nothing; once the lease passes it is stale."""
    holder.send_signal(signal.SIGSTOP)
    told: list[str] = []
    with hold_lease(ref, "apply", wait=20 * LEASE, notify=told.append):
        (mine,) = leases(ref)
        assert mine.pid == os.getpid()
    said = "\n".join(told)
    assert "took over a stale lock" in said and f"pid {holder.pid}" in said
    assert "past its 1.5s lease" in said
    assert leases(ref) == []  # released on the way out


def test_a_killed_holder_on_this_host_is_stale_at_once(
    ref: StackRef, holder: subprocess.Popen[str]
) -> None:
    holder.kill()
    holder.wait()
    (lock,) = [lock for lock in stack_locks(ref) if lock.kind == "team"]
    assert lock.gone and f"pid {holder.pid} on this host is gone" in lock.holder
    told: list[str] = []
    with hold_lease(ref, "apply", notify=told.append):
        pass
    assert any("took over a stale lock" in line for line in told)


def test_unlock_by_id_releases_a_live_lease_at_once(
    ref: StackRef, holder: subprocess.Popen[str], tmp_path: Path
) -> None:
    (lock,) = [lock for lock in stack_locks(ref) if lock.kind == "team"]
    assert not lock.gone
    with pytest.raises(StackLockedError, match="whose lease is live"):
        unlock_stack(ref)  # no id: a live lease is not released on a guess
    # `styx unlock STACK LOCK_ID`, as a person types it (the stack file names the backend).
    stack_file = tmp_path / "team.yaml"
    stack_file.write_text(f"name: team\ntask: team-task.yaml\nbackend: {ref.backend_url}\n")
    done = subprocess.run(
        [sys.executable, "-m", "styx", "unlock", "--stack-file", str(stack_file), "team",
         lock.lock_id, "-y"], capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()}, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"team lock {lock.lock_id}: held by" in done.stdout
    assert f"pid {holder.pid}" in done.stdout
    assert "Released 1 lock(s) of styx/team." in done.stdout
    assert [lease for lease in leases(ref) if lease.lock_id == lock.lock_id] == []
    with hold_lease(ref, "apply"):  # at once, no lease to wait for
        pass
    # The old holder's heartbeat (every third of the lease) finds its lease gone, says so.
    said = "this command's lock on styx/team was released (styx unlock)"
    errors = tmp_path / "holder.err"
    wait_for(lambda: said in errors.read_text(), 60, "the holder to notice")


def test_shared_holders_share_and_exclude_exclusive(ref: StackRef) -> None:
    with hold_lease(ref, "exec", shared=True), hold_lease(ref, "exec", shared=True):
        assert len(leases(ref)) == 2
        with pytest.raises(StackLockedError, match="styx exec"), hold_lease(ref, "apply"):
            pass
        assert len(leases(ref)) == 2  # the refused one stepped back
    with (hold_lease(ref, "apply"), pytest.raises(StackLockedError, match="styx apply"),
          hold_lease(ref, "exec", shared=True)):  # fmt: skip
        pass
