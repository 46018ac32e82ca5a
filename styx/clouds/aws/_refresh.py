"""Rebuild the AWS catalog: specs and zones from EC2, prices from AWS's pricing data."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from styx.clouds.aws._catalog import Catalog, InstanceOffering, accelerator_name
from styx.errors import CloudError

__all__ = [
    "DEFAULT_REGIONS",
    "ClientFactory",
    "RefreshResult",
    "boto3_clients",
    "offering_from_type",
    "refresh_catalog",
]

# The regions SkyPilot offers AWS's accelerators in most: the US ones, then Europe and Asia.
DEFAULT_REGIONS: Final = ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1",
                          "eu-north-1", "ap-northeast-1", "ap-southeast-2")
_PRICING_REGION: Final = "us-east-1"  # the Price List API answers from here for every region
_PRICE_FILTERS: Final = (
    ("operatingSystem", "Linux"),
    ("tenancy", "Shared"),
    ("preInstalledSw", "NA"),
    ("capacitystatus", "Used"),
    ("licenseModel", "No License required"),
)

ClientFactory = Callable[[str, str], Any]  # (service, region) -> a boto3 client


def boto3_clients(endpoint_url: str | None = None) -> ClientFactory:
    """boto3 clients on the default credential chain; `endpoint_url` for a stand-in (moto)."""
    import boto3

    session = boto3.session.Session()

    def make(service: str, region: str) -> Any:
        return session.client(service, region_name=region, endpoint_url=endpoint_url)

    return make


@dataclass(frozen=True)
class RefreshResult:
    """The rebuilt catalog and what the refresh could not do (prices kept from before, ...)."""

    catalog: Catalog
    notes: tuple[str, ...]


def offering_from_type(info: Mapping[str, Any], region: str,
                       zones: Sequence[str]) -> InstanceOffering:
    """A priceless offering from one DescribeInstanceTypes entry."""
    gpus = info.get("GpuInfo", {}).get("Gpus", [])
    total_mib = info.get("GpuInfo", {}).get("TotalGpuMemoryInMiB", 0)
    if not gpus:
        # Inferentia and Trainium are Neuron devices, listed apart from GPUs.
        gpus = info.get("NeuronInfo", {}).get("NeuronDevices", [])
        total_mib = info.get("NeuronInfo", {}).get("TotalNeuronDeviceMemoryInMiB", 0)
    first = gpus[0] if gpus else None
    gpu_memory = (first.get("MemoryInfo", {}).get("SizeInMiB", 0) / 1024) if first else 0.0
    arches = info.get("ProcessorInfo", {}).get("SupportedArchitectures", ["x86_64"])
    strategies = info.get("PlacementGroupInfo", {}).get("SupportedStrategies", [])
    return InstanceOffering(
        instance_type=info["InstanceType"],
        region=region,
        vcpus=float(info["VCpuInfo"]["DefaultVCpus"]),
        memory_gib=info["MemoryInfo"]["SizeInMiB"] / 1024,
        gpu_name=accelerator_name(first["Name"], gpu_memory) if first else None,
        gpu_count=sum(int(g.get("Count", 0)) for g in gpus),
        gpu_memory_gib=round(total_mib / 1024, 2),
        arch="arm64" if "arm64" in arches else "x86_64",
        burstable=bool(info.get("BurstablePerformanceSupported", False)),
        cluster_placement="cluster" in strategies,
        price=None,
        spot_price=None,
        zones=tuple(sorted(zones)),
        efa=bool(info.get("NetworkInfo", {}).get("EfaSupported", False)),
    )


def _pages(client: Any, operation: str, key: str, **params: Any) -> Iterable[Any]:
    for page in client.get_paginator(operation).paginate(**params):
        yield from page.get(key, [])


def _specs(ec2: Any, region: str) -> list[InstanceOffering]:
    zones: dict[str, list[str]] = {}
    for offer in _pages(ec2, "describe_instance_type_offerings", "InstanceTypeOfferings",
                        LocationType="availability-zone-id"):
        zones.setdefault(offer["InstanceType"], []).append(offer["Location"])
    found = []
    for info in _pages(ec2, "describe_instance_types", "InstanceTypes"):
        # A type no zone offers cannot be launched here, whatever DescribeInstanceTypes says;
        # one without HVM cannot boot the images Styx uses.
        if info["InstanceType"] in zones and "hvm" in info.get("SupportedVirtualizationTypes",
                                                               ["hvm"]):
            found.append(offering_from_type(info, region, zones[info["InstanceType"]]))
    return sorted(found, key=lambda o: o.instance_type)


def _on_demand_prices(pricing: Any, region: str) -> dict[str, float]:
    filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    filters += [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in _PRICE_FILTERS]
    prices: dict[str, float] = {}
    for raw in _pages(pricing, "get_products", "PriceList", ServiceCode="AmazonEC2",
                      Filters=filters):
        product = json.loads(raw) if isinstance(raw, str) else raw
        instance_type = product.get("product", {}).get("attributes", {}).get("instanceType")
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                usd = float(dimension.get("pricePerUnit", {}).get("USD", 0) or 0)
                if instance_type and usd > 0:
                    prices[instance_type] = usd
    return prices


def _spot_prices(ec2: Any, region: str, now: dt.datetime) -> dict[str, float]:
    # Only the newest price per (type, zone) counts; a region's spot price is its
    # cheapest zone's, which is where a spot request would go first.
    latest: dict[tuple[str, str], tuple[dt.datetime, float]] = {}
    for item in _pages(ec2, "describe_spot_price_history", "SpotPriceHistory",
                       ProductDescriptions=["Linux/UNIX"], StartTime=now):
        key = (item["InstanceType"], item.get("AvailabilityZone", region))
        stamp = item.get("Timestamp") or now
        if key not in latest or stamp > latest[key][0]:
            latest[key] = (stamp, float(item["SpotPrice"]))
    prices: dict[str, float] = {}
    for (instance_type, _zone), (_stamp, price) in latest.items():
        prices[instance_type] = min(price, prices.get(instance_type, price))
    return prices


def refresh_catalog(client: ClientFactory, regions: Sequence[str] = DEFAULT_REGIONS, *,
                    previous: Catalog | None = None, today: dt.date | None = None
                    ) -> RefreshResult:
    """Describe every instance type offered in `regions` and price it.

    Specs must come from EC2 (failure raises CloudError). Prices that cannot be read (no
    pricing API at this endpoint, no permission) are kept from `previous` for the same type
    and region, and each such gap is reported in `notes`.
    """
    import botocore.exceptions

    errors = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
    now = dt.datetime.now(dt.UTC)
    notes: list[str] = []
    offerings: list[InstanceOffering] = []
    priced = False
    for region in regions:
        ec2 = client("ec2", region)
        try:
            specs = _specs(ec2, region)
        except botocore.exceptions.NoCredentialsError as err:
            raise CloudError("no AWS credentials: configure them (aws configure, or "
                             "AWS_PROFILE / AWS_ACCESS_KEY_ID)", cloud="aws") from err
        except errors as err:
            raise CloudError(f"describing instance types in {region}: {err}", cloud="aws") from err
        if not specs:
            notes.append(f"{region}: EC2 listed no instance types")
        try:
            on_demand = _on_demand_prices(client("pricing", _PRICING_REGION), region)
        except errors as err:
            on_demand = {}
            notes.append(f"{region}: on-demand prices not refreshed ({_short(err)})")
        priced = priced or bool(on_demand)
        try:
            spot = _spot_prices(ec2, region, now)
        except errors as err:
            spot = {}
            notes.append(f"{region}: spot prices not refreshed ({_short(err)})")
        kept = 0
        for spec in specs:
            old = previous.find(spec.instance_type, region) if previous else None
            price = on_demand.get(spec.instance_type, old.price if old else None)
            spot_price = spot.get(spec.instance_type, old.spot_price if old else None)
            if old is not None and (
                (spec.instance_type not in on_demand and old.price is not None)
                or (spec.instance_type not in spot and old.spot_price is not None)
            ):
                kept += 1
            offerings.append(replace(spec, price=price, spot_price=spot_price))
        if kept:
            notes.append(f"{region}: kept earlier prices for {kept} instance types")
    # The date says when the on-demand prices were taken; none new, the old date stands.
    taken = (today or now.date()) if priced else (previous.prices_taken if previous else None)
    return RefreshResult(Catalog(tuple(offerings), taken, "refreshed"), tuple(notes))


def _short(err: Exception) -> str:
    return str(err).splitlines()[0][:160] if str(err) else type(err).__name__
