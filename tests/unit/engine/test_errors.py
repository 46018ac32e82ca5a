"""Engine failures classified at the boundary into errors a user can act on."""

from __future__ import annotations

from pulumi.automation._cmd import CommandResult
from pulumi.automation.errors import create_command_error

from styx.engine._errors import classify
from styx.errors import EngineError, StackLockedError, StackNotFoundError


def error(stderr: str, stdout: str = "", code: int = 255) -> EngineError:
    return classify(create_command_error(CommandResult(stdout, stderr, code)), "styx/hello")


def test_locked_stack_names_the_holder() -> None:
    err = error(
        "error: the stack is currently locked by 1 lock(s). Either wait for the other "
        "process(es) to end or delete the lock file with `pulumi cancel`.\n"
        "  file:///x/.pulumi/locks/organization/styx/hello/abc.json: created by "
        "root@box (pid 4242) at 2026-11-21T05:30:00Z\n"
    )
    assert isinstance(err, StackLockedError)
    assert "stack styx/hello is locked by root@box (pid 4242) since 2026-11-21T05:30:00Z" in str(
        err
    )


def test_missing_stack() -> None:
    err = error("error: no stack named 'hello' found")
    assert isinstance(err, StackNotFoundError)


def test_missing_provider_plugin_says_how_to_install_it() -> None:
    err = error(
        "error: could not load plugin for aws provider 'urn:...': no resource plugin "
        "'pulumi-resource-aws' found in the workspace at version v7.51.1"
    )
    assert "pulumi plugin install resource aws 7.51.1" in str(err)
    assert "\n" not in str(err)


def test_other_failures_keep_the_specific_line() -> None:
    err = error("", stdout="error: sshd failed to start on 127.0.4.2:2222\nerror: update failed\n")
    assert str(err) == "stack styx/hello: sshd failed to start on 127.0.4.2:2222"


def test_lock_lines_are_read_with_their_holders() -> None:
    from styx.engine._errors import engine_locks

    text = (
        "error: the stack is currently locked by 2 lock(s).\n"
        "  file:///x/.pulumi/locks/organization/styx/hello/abc.json: created by "
        "root@box (pid 4242) at 2026-11-21T05:30:00Z\n"
        "  s3://b/.pulumi/locks/organization/styx/hello/def.json: created by "
        "ci@runner-1 (pid 7) at 2026-11-21T05:31:00Z\n"
    )
    locks = engine_locks(text)
    assert [(lk.host, lk.pid) for lk in locks] == [("box", 4242), ("runner-1", 7)]
    assert locks[1].describe() == "ci@runner-1 (pid 7) since 2026-11-21T05:31:00Z"


def test_locked_stack_points_at_styx_unlock() -> None:
    err = error(
        "error: the stack is currently locked by 1 lock(s).\n"
        "  file:///x/a.json: created by root@box (pid 4242) at 2026-11-21T05:30:00Z\n"
    )
    assert "`styx unlock hello`" in str(err) and "pulumi cancel" not in str(err)


def test_only_our_own_pending_creates_are_dropped() -> None:
    from styx.engine._ops import without_pending_creates

    node = {"type": "creating", "resource": {"type": "pulumi-python:dynamic:Resource", "urn": "a"}}
    instance = {"type": "creating", "resource": {"type": "aws:ec2/instance:Instance", "urn": "b"}}
    update = {"type": "updating", "resource": {"type": "pulumi-python:dynamic:Resource"}}
    pending = [node, instance, update]
    edited = without_pending_creates({"resources": [], "pending_operations": pending})
    assert edited["pending_operations"] == [instance, update]
    assert without_pending_creates({"resources": []}) == {"resources": []}
