"""Catalog refresh over hand-written fake clients (the ClientFactory seam): parsing and merging."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
import pytest

from styx.clouds.aws import Catalog, refresh_catalog
from styx.errors import CloudError

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _type(name: str, vcpus: int, mib: int, **extra: Any) -> dict[str, Any]:
    return {"InstanceType": name, "VCpuInfo": {"DefaultVCpus": vcpus},
            "MemoryInfo": {"SizeInMiB": mib}, "SupportedVirtualizationTypes": ["hvm"],
            "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]},
            "PlacementGroupInfo": {"SupportedStrategies": ["cluster", "spread"]}, **extra}


TYPES = [
    _type("m6i.large", 2, 8192),
    _type("p4de.24xlarge", 96, 1179648, GpuInfo={
        "Gpus": [{"Name": "A100", "Count": 8, "MemoryInfo": {"SizeInMiB": 81920}}],
        "TotalGpuMemoryInMiB": 655360}),
    _type("t1.micro", 1, 627, SupportedVirtualizationTypes=["paravirtual"]),
    _type("x9.nowhere", 4, 4096),  # described, but no zone offers it
]
OFFERS = [{"InstanceType": t, "Location": z} for t in ("m6i.large", "p4de.24xlarge", "t1.micro")
          for z in ("use1-az2", "use1-az1")]


def _product(instance_type: str, usd: str) -> str:
    return json.dumps({
        "product": {"attributes": {"instanceType": instance_type}},
        "terms": {"OnDemand": {"T1": {"priceDimensions": {"D1": {"pricePerUnit": {"USD": usd}}}}}},
    })


@dataclass
class FakeClient:
    """Pages per operation; an exception instead of pages makes that operation fail."""

    pages: Mapping[str, list[dict[str, Any]] | Exception]
    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def get_paginator(self, operation: str) -> FakeClient._Paginator:
        return FakeClient._Paginator(self, operation)

    @dataclass
    class _Paginator:
        client: FakeClient
        operation: str

        def paginate(self, **params: Any) -> Iterator[dict[str, Any]]:
            self.client.seen.append((self.operation, params))
            pages = self.client.pages[self.operation]
            if isinstance(pages, Exception):
                raise pages
            yield from pages


def ec2(spot: list[dict[str, Any]] | Exception | None = None) -> FakeClient:
    return FakeClient({
        "describe_instance_types": [{"InstanceTypes": TYPES[:2]}, {"InstanceTypes": TYPES[2:]}],
        "describe_instance_type_offerings": [{"InstanceTypeOfferings": OFFERS}],
        "describe_spot_price_history": spot if spot is not None else [{"SpotPriceHistory": [
            {"InstanceType": "m6i.large", "AvailabilityZone": "us-east-1a", "SpotPrice": "0.05",
             "Timestamp": NOW - dt.timedelta(hours=2)},
            {"InstanceType": "m6i.large", "AvailabilityZone": "us-east-1a", "SpotPrice": "0.04",
             "Timestamp": NOW - dt.timedelta(hours=1)},
            {"InstanceType": "m6i.large", "AvailabilityZone": "us-east-1b", "SpotPrice": "0.045",
             "Timestamp": NOW},
        ]}],
    })


PREVIOUS = Catalog((), dt.date(2025, 1, 15), "previous")


def test_specs_prices_and_spot_prices() -> None:
    pricing = FakeClient({"get_products": [
        {"PriceList": [_product("m6i.large", "0.0960000000"), _product("p4de.24xlarge", "40.96")]},
    ]})
    clients = {"ec2": ec2(), "pricing": pricing}
    result = refresh_catalog(lambda service, _region: clients[service], ["us-east-1"],
                             previous=PREVIOUS, today=dt.date(2026, 3, 1))
    catalog = result.catalog
    assert [o.instance_type for o in catalog.offerings] == ["m6i.large", "p4de.24xlarge"]
    m6i, p4de = catalog.offerings
    assert (m6i.vcpus, m6i.memory_gib, m6i.gpu_name, m6i.price) == (2, 8, None, 0.096)
    # Newest price per zone (0.04 in a, 0.045 in b), then the cheapest zone.
    assert m6i.spot_price == 0.04
    assert m6i.zones == ("use1-az1", "use1-az2")
    assert (p4de.gpu_name, p4de.gpu_count, p4de.gpu_memory_gib) == ("A100-80GB", 8, 640)
    assert p4de.spot_price is None and p4de.price == 40.96
    assert catalog.prices_taken == dt.date(2026, 3, 1)
    assert result.notes == ()
    filters = {f["Field"]: f["Value"] for f in pricing.seen[0][1]["Filters"]}
    assert filters["regionCode"] == "us-east-1" and filters["operatingSystem"] == "Linux"


def test_prices_that_cannot_be_read_are_kept_and_reported() -> None:
    previous = refresh_catalog(
        lambda service, _r: {"ec2": ec2(), "pricing": FakeClient({"get_products": [
            {"PriceList": [_product("m6i.large", "0.096")]}]})}[service],
        ["us-east-1"], previous=PREVIOUS, today=dt.date(2025, 6, 1)).catalog
    failing = botocore.exceptions.EndpointConnectionError(endpoint_url="http://pricing")
    clients = {"ec2": ec2(spot=failing), "pricing": FakeClient({"get_products": failing})}
    result = refresh_catalog(lambda service, _r: clients[service], ["us-east-1"],
                             previous=previous)
    m6i = result.catalog.find("m6i.large", "us-east-1")
    assert m6i is not None and (m6i.price, m6i.spot_price) == (0.096, 0.04)
    assert result.catalog.prices_taken == dt.date(2025, 6, 1)  # nothing new: the old date
    assert [n.split(" (")[0] for n in result.notes] == [
        "us-east-1: on-demand prices not refreshed", "us-east-1: spot prices not refreshed",
        "us-east-1: kept earlier prices for 1 instance types"]


def test_specs_failing_is_an_error() -> None:
    denied = botocore.exceptions.ClientError(
        {"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "DescribeInstanceTypes")
    client = FakeClient({"describe_instance_type_offerings": denied})
    with pytest.raises(CloudError, match="describing instance types in us-east-1"):
        refresh_catalog(lambda _s, _r: client, ["us-east-1"])
    missing = FakeClient({"describe_instance_type_offerings":
                          botocore.exceptions.NoCredentialsError()})
    with pytest.raises(CloudError, match="no AWS credentials"):
        refresh_catalog(lambda _s, _r: missing, ["us-east-1"])


def test_neuron_devices_efa_and_skypilot_names_are_read() -> None:
    from styx.clouds.aws._refresh import offering_from_type

    trn1 = offering_from_type(_type("trn1.32xlarge", 128, 524288, NeuronInfo={
        "NeuronDevices": [{"Name": "Trainium", "Count": 16,
                           "MemoryInfo": {"SizeInMiB": 32768}}],
        "TotalNeuronDeviceMemoryInMiB": 524288}, NetworkInfo={"EfaSupported": True}),
        "us-east-1", ["use1-az6"])
    assert (trn1.gpu_name, trn1.gpu_count, trn1.gpu_memory_gib, trn1.efa) == \
        ("Trainium", 16, 512, True)
    # EC2 spells it "L40s" in places; SkyPilot's (and Styx's) name is L40S.
    g6e = offering_from_type(_type("g6e.xlarge", 4, 32768, GpuInfo={
        "Gpus": [{"Name": "L40s", "Count": 1, "MemoryInfo": {"SizeInMiB": 45776}}],
        "TotalGpuMemoryInMiB": 45776}), "us-east-2", [])
    assert (g6e.gpu_name, g6e.efa) == ("L40S", False)
