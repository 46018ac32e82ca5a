"""Inventory, known_hosts and vars files: what Ansible and ssh read, and nothing they template."""

from __future__ import annotations

from pathlib import Path

from ansible.parsing.yaml.loader import AnsibleLoader

from styx.nodes import ClusterAccess, render_known_hosts
from styx.nodes._inventory import HostEntry, render_inventory, render_vars

GOLDEN = Path(__file__).parent / "golden"


def load(text: str) -> object:
    return AnsibleLoader(text).get_single_data()


def hosts(cluster: ClusterAccess) -> list[HostEntry]:
    env = {"A": "1", "TRICKY": "{{ lookup('pipe', 'id') }}\nline 2 \"quoted\""}
    return [HostEntry.of(node, {**env, "RANK": str(node.rank)}) for node in cluster.nodes]


def test_inventory_matches_golden(cluster: ClusterAccess, golden) -> None:  # type: ignore[no-untyped-def]
    golden(GOLDEN / "inventory.yml", render_inventory(cluster, hosts(cluster)))


def test_inventory_loads_with_every_string_unsafe(cluster: ClusterAccess) -> None:
    data = load(render_inventory(cluster, hosts(cluster)))
    assert isinstance(data, dict)
    nodes = data["all"]["children"]["styx_nodes"]["hosts"]
    assert list(nodes) == ["head", "worker1"]
    worker = nodes["worker1"]
    assert (worker["ansible_host"], worker["ansible_port"]) == ("127.9.8.3", 2222)
    assert worker["ansible_user"] == "alice"
    assert worker["ansible_ssh_private_key_file"] == "/styx/local/demo/keys/id_ed25519"
    assert worker["styx_rank"] == 1
    tricky = worker["styx_env"]["TRICKY"]
    assert tricky == "{{ lookup('pipe', 'id') }}\nline 2 \"quoted\""
    assert type(tricky).__name__ in ("AnsibleUnsafeText", "_AnsibleTaggedStr", "str")


def test_empty_env_still_loads(cluster: ClusterAccess) -> None:
    entries = [HostEntry.of(node, {}) for node in cluster.nodes]
    data = load(render_inventory(cluster, entries))
    assert isinstance(data, dict)
    assert data["all"]["children"]["styx_nodes"]["hosts"]["head"]["styx_env"] == {}


def test_known_hosts_use_bracketed_host_and_port(cluster: ClusterAccess) -> None:
    assert render_known_hosts(cluster) == (
        "[127.9.8.2]:2222 ssh-ed25519 AAAAhead styx-demo-head\n"
        "[127.9.8.3]:2222 ssh-ed25519 AAAAworker\n"
    )


def test_vars_round_trip_through_ansible_yaml() -> None:
    variables = {
        "styx_run": "echo {{ not a template }}\nexit 0",
        "styx_force": False,
        "count": 3,
        "styx_mounts": [
            {"dst": "data", "src": "/tmp/a b.tar.gz", "kind": "dir"},
            {"dst": "/etc/x", "src": "/tmp/x", "kind": "file"},
        ],
        "empty_list": [],
        "empty_map": {},
        "unicode": "héllo ✓",
        "empty": "",
    }
    assert load(render_vars(variables)) == variables
