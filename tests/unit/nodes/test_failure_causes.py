"""What ssh and Ansible print when a node fails becomes one line naming the node and cause."""

from __future__ import annotations

import pytest

from styx.nodes._secrets import SecretMask
from styx.nodes._ssh import host_key_refused, ssh_cause
from styx.nodes._stream import result_message

CHANGED = """\
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
Host key verification failed."""


@pytest.mark.parametrize(("printed", "cause"), [
    (CHANGED, "host key of worker1 changed: refusing to connect; if you replaced the node on "
              "purpose, `styx apply --accept-host-keys`"),
    ("Failed to connect to the host via ssh: Host key verification failed.",
     "host key of worker1 changed: refusing to connect"),
    ("root@127.0.0.3: Permission denied (publickey).",
     "authentication failed on worker1: it refused the cluster's key"),
    ("ssh: connect to host 127.0.0.3 port 2222: Connection refused",
     "connection refused by worker1 at 127.0.0.3:2222: no sshd answers there"),
    ("ssh: connect to host 10.0.0.9 port 22: Connection timed out",
     "no answer from worker1: ssh: connect to host 10.0.0.9 port 22: Connection timed out"),
    ("kex_exchange_identification: read: Connection reset by peer",
     "no answer from worker1: kex_exchange_identification"),
    ("something else\nand its last line", "worker1: and its last line"),
    ("", "worker1: ssh failed and said nothing"),
])  # fmt: skip
def test_ssh_cause(printed: str, cause: str) -> None:
    line = ssh_cause("worker1", printed)
    assert line.startswith(cause)
    assert "\n" not in line


def test_host_key_refused_only_for_host_keys() -> None:
    assert host_key_refused(CHANGED)
    assert host_key_refused("No ED25519 host key is known for [127.0.0.3]:2222 and you have "
                            "requested strict checking.")  # fmt: skip
    assert not host_key_refused("Permission denied (publickey).")


def test_a_failed_command_says_its_exit_code_and_stderr_tail_masked() -> None:
    result = {
        "msg": "non-zero return code",
        "rc": 2,
        "stderr": "one\ntwo\n\nthree uses s3cr3t-v4lue\nfour\n",
        "stdout": "ignored",
    }
    mask = SecretMask(["s3cr3t-v4lue"])
    assert result_message(result, mask) == (
        "exit code 2; stderr: two | three uses [secret] | four"
    )
    # Unmasked only when there is nothing to mask with.
    assert "s3cr3t-v4lue" in result_message(result)


def test_a_secret_of_several_lines_is_masked_whole() -> None:
    secret = "first-line-of-the-key\nsecond-line-of-the-key"
    result = {"rc": 1, "stderr": f"bad key:\n{secret}\n"}
    shown = result_message(result, SecretMask([secret]))
    assert "first-line" not in shown and "second-line" not in shown


def test_other_results_keep_their_message() -> None:
    assert result_message({"msg": "setup exited with code 7"}) == "setup exited with code 7"
    assert result_message({"rc": 0, "stderr": "warning only", "msg": ""}) == "warning only"
    assert result_message({}) == ""
