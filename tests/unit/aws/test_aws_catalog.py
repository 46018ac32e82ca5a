"""The shipped catalog and the CSV format."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from styx.clouds.aws import (
    catalog_path,
    load_catalog,
    parse_catalog,
    shipped_catalog_path,
    user_catalog_path,
)
from styx.errors import CloudError

from .conftest import FIXED_CATALOG


def test_shipped_catalog_covers_the_promised_types() -> None:
    catalog = load_catalog(shipped_catalog_path())
    assert catalog.prices_taken == dt.date(2025, 9, 1)
    # The regions SkyPilot offers AWS's accelerators in: the US ones, main EU and Asia ones.
    assert {"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1",
            "ap-northeast-1"} <= set(catalog.regions)
    types = {o.instance_type for o in catalog.offerings}
    assert len(types) >= 55
    for family in ("t3", "m6i", "c6i", "r6i", "g4dn", "g5", "g6", "g6e", "p3", "p4d", "p5",
                   "p5e", "p5en", "inf2", "trn1"):
        assert any(t.startswith(family + ".") for t in types), family
    wanted = {("p5.4xlarge", "H100", 1), ("p5e.48xlarge", "H200", 8),
              ("p5en.48xlarge", "H200", 8), ("g6e.xlarge", "L40S", 1),
              ("inf2.xlarge", "Inferentia2", 1), ("trn1.32xlarge", "Trainium", 16)}
    for instance_type, accelerator, count in wanted:
        offering = catalog.find(instance_type, "us-east-1")
        assert offering is not None, instance_type
        assert (offering.gpu_name, offering.gpu_count) == (accelerator, count)
    assert {o.instance_type for o in catalog.offerings if o.efa} >= {
        "p4d.24xlarge", "p5.48xlarge", "p5en.48xlarge", "trn1.32xlarge"}
    p3 = catalog.find("p3.16xlarge", "us-east-1")
    p4d = catalog.find("p4d.24xlarge", "us-east-1")
    assert p3 is not None and (p3.gpu_name, p3.gpu_count) == ("V100", 8)
    assert p4d is not None and (p4d.gpu_name, p4d.gpu_count, p4d.vcpus) == ("A100", 8, 96)
    for o in catalog.offerings:
        assert o.price is not None and o.spot_price is not None
        assert 0 < o.spot_price < o.price, o
    header = shipped_catalog_path().read_text().splitlines()[:9]
    assert any("APPROXIMATE public list prices" in line for line in header)


def test_csv_round_trip() -> None:
    catalog = parse_catalog(FIXED_CATALOG, "fixed")
    again = parse_catalog(catalog.to_csv(["a header"]), "again")
    assert again.offerings == catalog.offerings
    assert again.prices_taken == catalog.prices_taken
    p4d = again.find("p4d.24xlarge", "us-east-1")
    assert p4d is not None and p4d.spot_price is None and p4d.zones == ("use1-az1",)


def test_bad_catalogs_are_cloud_errors(tmp_path: Path) -> None:
    with pytest.raises(CloudError, match="not an AWS catalog"):
        parse_catalog("a,b\n1,2\n", "x.csv")
    bad_row = FIXED_CATALOG.replace("0.096", "cheap")
    with pytest.raises(CloudError, match="bad catalog row"):
        parse_catalog(bad_row, "x.csv")
    with pytest.raises(CloudError, match="cannot read the AWS catalog"):
        load_catalog(tmp_path / "missing.csv")


def test_a_refreshed_catalog_is_read_first(styx_home: Path) -> None:
    assert catalog_path() == shipped_catalog_path()
    user = user_catalog_path()
    assert user.is_relative_to(styx_home)
    user.parent.mkdir(parents=True)
    user.write_text(FIXED_CATALOG)
    assert catalog_path() == user
    assert load_catalog().source == str(user)
