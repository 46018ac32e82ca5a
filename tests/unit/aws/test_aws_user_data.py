"""First-boot script and host keys read back from the console."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from styx.clouds.aws import host_keys_from_console, wait_for_host_keys
from styx.clouds.aws._userdata import UserData, render_user_data
from styx.errors import CloudError
from styx.spec import Autostop


def render(autostop: Autostop | None, cluster: str = "c1") -> str:
    return render_user_data(UserData(cluster=cluster, node="worker2", rank=2, num_nodes=3,
                                     ssh_user="ubuntu", autostop=autostop,
                                     shutdown_behavior="stop"))


def test_script_carries_node_and_autostop_settings() -> None:
    text = render(Autostop(15, down=False, wait_for="jobs"))
    assert text.startswith("#!/bin/bash\n")
    for line in ("STYX_CLUSTER=c1", "STYX_NODE_NAME=worker2", "STYX_NODE_RANK=2",
                 "STYX_NUM_NODES=3", "STYX_AUTOSTOP_ENABLED=true",
                 "STYX_AUTOSTOP_IDLE_MINUTES=15", "STYX_AUTOSTOP_DOWN=false",
                 "STYX_AUTOSTOP_WAIT_FOR=jobs", "STYX_AUTOSTOP_SHUTDOWN_BEHAVIOR=stop"):
        assert line in text.splitlines()
    assert "apt-get install -y -qq python3" in text
    assert "STYX_AUTOSTOP_ENABLED=false" in render(None).splitlines()


def test_values_are_shell_quoted() -> None:
    assert "STYX_CLUSTER='a b;c'" in render(None, cluster="a b;c")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_script_is_valid_bash() -> None:
    for autostop in (None, Autostop(5, down=True)):
        done = subprocess.run(["bash", "-n"], input=render(autostop), text=True,
                              capture_output=True, check=False)
        assert done.returncode == 0, done.stderr


CONSOLE = """\
[  OK  ] Started ssh.service
-----BEGIN SSH HOST KEY KEYS-----
ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTI1NTYAAAAIbmlzdHAyNTY= root@ip-10-42-0-5
ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLD root@ip-10-42-0-5
-----END SSH HOST KEY KEYS-----
cloud-init: running user scripts
-----BEGIN STYX HOST KEYS-----
ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINEW root@ip-10-42-0-5
ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTI1NTYAAAAIbmlzdHAyNTY= root@ip-10-42-0-5
-----END STYX HOST KEYS-----
"""


def test_host_keys_from_console_prefer_styx_block() -> None:
    assert host_keys_from_console(CONSOLE) == (
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINEW",
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTI1NTYAAAAIbmlzdHAyNTY=",
    )


def test_host_keys_fall_back_to_cloud_init_and_to_nothing() -> None:
    cloud_init_only = CONSOLE.split("cloud-init: running")[0]
    assert host_keys_from_console(cloud_init_only)[1] == (
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLD")
    assert host_keys_from_console("booting...\n") == ()


def test_wait_for_host_keys_polls_until_printed() -> None:
    answers = iter([(), (), ("ssh-ed25519 AAAA",)])
    slept: list[float] = []
    now = iter(range(100))
    keys = wait_for_host_keys("i-1", "us-east-1", interval=5, fetch=lambda *_: next(answers),
                              sleep=slept.append, clock=lambda: float(next(now)))
    assert keys == ("ssh-ed25519 AAAA",) and slept == [5, 5]


def test_wait_for_host_keys_gives_up() -> None:
    now = iter([0.0, 30.0, 61.0])
    with pytest.raises(CloudError, match="i-1 printed no SSH host keys on its console in 60s"):
        wait_for_host_keys("i-1", "us-east-1", timeout=60, fetch=lambda *_: (),
                           sleep=lambda _s: None, clock=lambda: next(now))
