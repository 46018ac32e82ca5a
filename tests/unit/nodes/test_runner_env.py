"""The environment ansible-runner gets: what Ansible needs, no secret, and our settings intact."""

from __future__ import annotations

import pytest

from styx.nodes._runner import _environment

OURS = {
    "ANSIBLE_CONFIG": "/styx/stacks/p/dev/runs/job-1/ansible.cfg",
    "ANSIBLE_HOST_KEY_CHECKING": "True",
    "ANSIBLE_NOCOLOR": "1",
    "PATH": "/venv/bin:/usr/bin",
}


@pytest.mark.parametrize("secret", ["dev", "True", "1", "/usr/bin", "runs"])
def test_a_secret_that_is_part_of_our_settings_does_not_remove_them(secret: str) -> None:
    env = _environment({"HOME": "/root", "LANG": "C.UTF-8"}, OURS, [secret])
    for key, value in OURS.items():
        assert env[key] == value
    assert env["HOME"] == "/root"


def test_a_variable_holding_exactly_a_secret_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD", raising=False)
    config = {
        "HOME": "/home/dev",  # holds "dev" as a part: stays
        "ANSIBLE_VAULT_PASSWORD": "dev",  # is the secret: goes
        "RUNNER_TOKEN": "tok-123",
        "AWS_SECRET_ACCESS_KEY": "not ours to pass",  # not kept whatever its value
    }
    env = _environment(config, OURS, ["dev", "tok-123", ""])
    assert env["HOME"] == "/home/dev"
    assert "ANSIBLE_VAULT_PASSWORD" not in env
    assert "RUNNER_TOKEN" not in env
    assert "AWS_SECRET_ACCESS_KEY" not in env
