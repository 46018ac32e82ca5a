"""The loopback network registry: one /24 per cluster, never shared, never the host's own."""

from __future__ import annotations

import ipaddress
import json
import multiprocessing
from pathlib import Path

import pytest

from styx.clouds.local import _network
from styx.clouds.local._network import (
    allocate_network,
    choose_network,
    listening_networks,
    node_address,
    registered_network,
    release_network,
)
from styx.errors import CloudError


def test_choose_skips_taken_and_reserved() -> None:
    first = choose_network("alpha", set())
    assert ipaddress.IPv4Network(first).subnet_of(ipaddress.IPv4Network("127.0.0.0/8"))
    assert first not in {"127.0.0.0/24", "127.0.1.0/24"}
    second = choose_network("alpha", {first})
    assert second != first
    assert choose_network("alpha", set()) == first  # deterministic per cluster name


def test_reserved_networks_are_never_chosen() -> None:
    # Take everything but the two reserved /24s and one more: that one must be the answer.
    everything = {f"127.{i // 256}.{i % 256}.0/24" for i in range(256 * 256)}
    free = "127.200.3.0/24"
    assert choose_network("x", everything - {free, "127.0.0.0/24", "127.0.1.0/24"}) == free
    with pytest.raises(CloudError, match="no free /24"):
        choose_network("x", everything - {"127.0.0.0/24", "127.0.1.0/24"})


def test_node_address_starts_at_dot_two() -> None:
    assert node_address("127.4.5.0/24", 0) == "127.4.5.2"
    assert node_address("127.4.5.0/24", 3) == "127.4.5.5"
    assert node_address("127.4.5.0/24", _network.capacity(24) - 1) == "127.4.5.254"
    with pytest.raises(CloudError):
        node_address("127.4.5.0/24", _network.capacity(24))


def test_big_clusters_get_bigger_aligned_blocks() -> None:
    assert [_network.prefix_for(n) for n in (1, 253, 254, 509, 510, 1021)] == [24, 24, 23, 23,
                                                                              22, 22]
    with pytest.raises(CloudError):
        _network.prefix_for(1022)
    assert node_address("127.4.4.0/23", 300) == "127.4.5.46"
    block = _network.choose_network("big", set(), 23)
    assert block.endswith("/23") and int(block.split(".")[2]) % 2 == 0


def test_a_bigger_block_never_overlaps_a_taken_slash_24() -> None:
    taken = {f"127.9.{i}.0/24" for i in range(256)}
    for cluster in ("a", "b", "c", "d"):
        block = _network.choose_network(cluster, taken, 22)
        assert not block.startswith("127.9.")
        taken.add(block)
    # The four /22s are pairwise disjoint.
    nets = [ipaddress.IPv4Network(t) for t in taken if t.endswith("/22")]
    assert all(not a.overlaps(b) for a in nets for b in nets if a != b)


PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 0205077F:08AE 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1
   3: 0209077F:08AE 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4 1
"""


def test_listening_networks_reads_loopback_listeners_only() -> None:
    # 0.0.0.0 is not loopback; 127.0.0.1 and 127.7.5.2 listen; 127.7.9.2 is an established socket.
    assert listening_networks(PROC_NET_TCP) == {"127.0.0.0/24", "127.7.5.0/24"}


def test_registry_allocates_keeps_and_releases(tmp_path: Path) -> None:
    registry = tmp_path / "local" / "networks.json"
    a = allocate_network(registry, "a")
    b = allocate_network(registry, "b")
    assert a != b
    assert allocate_network(registry, "a") == a  # asking again gives the same network
    assert registered_network(registry, "a") == a
    data = json.loads(registry.read_text())
    assert data == {"version": 1, "clusters": {"a": a, "b": b}}
    release_network(registry, "a")
    assert registered_network(registry, "a") is None
    assert registered_network(registry, "b") == b


def test_two_clusters_whose_names_hash_alike_still_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Force every name onto the same starting point: the registry alone must keep them apart.
    same_start = [ipaddress.IPv4Network(n) for n in ("127.9.9.0/24", "127.9.10.0/24")]
    monkeypatch.setattr(_network, "_candidates", lambda cluster, prefix: iter(same_start))
    registry = tmp_path / "networks.json"
    assert allocate_network(registry, "one") == "127.9.9.0/24"
    assert allocate_network(registry, "two") == "127.9.10.0/24"


def _allocate(args: tuple[str, str]) -> str:
    return allocate_network(Path(args[0]), args[1])


def test_concurrent_allocations_never_collide(tmp_path: Path) -> None:
    registry = tmp_path / "networks.json"
    names = [f"c{i}" for i in range(16)]
    with multiprocessing.get_context("fork").Pool(4) as pool:
        cidrs = pool.map(_allocate, [(str(registry), n) for n in names])
    assert len(set(cidrs)) == len(names)
    recorded = json.loads(registry.read_text())["clusters"]
    assert recorded == dict(zip(names, cidrs, strict=True))


def test_unreadable_registry_is_a_cloud_error(tmp_path: Path) -> None:
    registry = tmp_path / "networks.json"
    registry.write_text("{not json")
    with pytest.raises(CloudError, match="network registry"):
        allocate_network(registry, "a")
