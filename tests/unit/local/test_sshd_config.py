"""The node's sshd_config and session wrapper: keys only, the node's own paths, its own home."""

from __future__ import annotations

from pathlib import Path

import pytest

from styx.clouds.local._sshd import NodeServer, render_config
from styx.errors import NodeError


def server(root: Path) -> NodeServer:
    return NodeServer(
        cluster="c1",
        name="head",
        rank=0,
        address="127.3.4.2",
        port=2222,
        user="someone",
        root=root,
        authorized_key="ssh-ed25519 AAAA key",
    )


def test_config_pins_the_node_to_its_address_keys_and_home() -> None:
    config, session = render_config(server(Path("/h/local/c1/head dir")))
    lines = set(config.splitlines())
    for expected in (
        "ListenAddress 127.3.4.2:2222",
        'HostKey "/h/local/c1/head dir/etc/ssh_host_ed25519_key"',
        'PidFile "/h/local/c1/head dir/run/sshd.pid"',
        'AuthorizedKeysFile "/h/local/c1/head dir/etc/authorized_keys"',
        "AllowUsers someone",
        "PasswordAuthentication no",
        "AuthenticationMethods publickey",
        'SetEnv "HOME=/h/local/c1/head dir/home" "STYX_NODE_ROOT=/h/local/c1/head dir"',
        'ForceCommand "/h/local/c1/head dir/bin/session"',
    ):
        assert expected in lines, expected
    assert "HOME='/h/local/c1/head dir/home'" in session
    assert 'cd "$HOME" || exit 1' in session


@pytest.mark.parametrize("bad", ['/h/with"quote', "/h/with%percent", "/h/new\nline"])
def test_paths_sshd_cannot_carry_are_refused(bad: str) -> None:
    with pytest.raises(NodeError, match="cannot carry"):
        render_config(server(Path(bad)))
