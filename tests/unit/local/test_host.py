"""The host as the local cloud's catalog: what cannot fit is an error, what crowds is a warning."""

from __future__ import annotations

import pytest

from styx.clouds.local import HostCatalog, check_file_mounts, check_fits, host_catalog
from styx.clouds.local._host import parse_meminfo
from styx.errors import CloudError

HOST = HostCatalog(cores=8, memory_gb=16.0)


def test_fits_without_warnings() -> None:
    assert check_fits(2, 4, 2, HOST) == []
    assert check_fits(None, None, 50, HOST) == []


def test_one_node_larger_than_the_host_is_an_error() -> None:
    with pytest.raises(CloudError, match="asks for 16 CPUs but this host has 8") as err:
        check_fits(16, None, 1, HOST)
    assert err.value.cloud == "local"
    with pytest.raises(CloudError, match="32 GB of memory but this host has 16 GB"):
        check_fits(None, 32, 1, HOST)


def test_oversubscribing_cluster_warns() -> None:
    warnings = check_fits(4, 12, 3, HOST)
    assert warnings == [
        "3 nodes × 4 CPUs = 12 CPUs oversubscribes this host's 8 cores",
        "3 nodes × 12 GB = 36 GB oversubscribes this host's 16 GB of memory",
    ]


def test_zero_nodes_is_an_error() -> None:
    with pytest.raises(CloudError):
        check_fits(1, 1, 0, HOST)


def test_parse_meminfo() -> None:
    text = "MemFree:  1000 kB\nMemTotal:       16384000 kB\n"
    assert parse_meminfo(text) == pytest.approx(15.625)
    with pytest.raises(CloudError):
        parse_meminfo("MemFree: 1 kB\n")


def test_host_catalog_reads_this_machine() -> None:
    host = host_catalog()
    assert host.cores >= 1
    assert host.memory_gb > 0


def test_file_mounts_must_stay_in_the_node_home() -> None:
    check_file_mounts(["~/data", "~", "rel/dir"])
    with pytest.raises(CloudError) as err:
        check_file_mounts(["/etc/x", "~/ok", "../up", "~bob/x", "~/a/../b"])
    assert str(err.value).endswith("home (~/...): ../up, /etc/x, ~/a/../b, ~bob/x")
