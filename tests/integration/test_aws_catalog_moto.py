"""`styx catalog refresh` against moto's server: specs and zones rebuilt from EC2's API.

moto stands in for EC2 (DescribeInstanceTypes, DescribeInstanceTypeOfferings,
DescribeSpotPriceHistory, GetConsoleOutput); it has no Price List API, so on-demand prices
are kept from the shipped catalog and the command says so. Nothing here talks to AWS.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _moto import MotoServer

from styx.cli import main
from styx.clouds.aws import fetch_host_keys, load_catalog, shipped_catalog_path

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
def moto_url(moto_server: MotoServer) -> str:
    """The session's moto server (tests/conftest.py)."""
    return moto_server.url


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch, styx_home: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


def test_refresh_rebuilds_specs_from_moto(moto_url: str, fake_credentials: None,
                                          tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "vms.csv"
    with pytest.raises(SystemExit) as done:
        main(["catalog", "refresh", "--endpoint-url", moto_url, "--region", "us-east-1",
              "--output", str(output)])
    captured = capsys.readouterr()
    assert done.value.code == 0, captured.err
    assert captured.out.startswith("wrote ") and "in 1 regions to" in captured.out
    assert "note: us-east-1: on-demand prices not refreshed" in captured.err

    catalog = load_catalog(output)
    shipped = load_catalog(shipped_catalog_path())
    assert catalog.regions == ("us-east-1",)
    assert len(catalog.offerings) > 500  # every type moto offers there, not just the shipped
    assert catalog.prices_taken == shipped.prices_taken  # no new on-demand prices, old date

    p4d = catalog.find("p4d.24xlarge", "us-east-1")
    assert p4d is not None
    assert (p4d.vcpus, p4d.memory_gib, p4d.gpu_name, p4d.gpu_count) == (96, 1152, "A100", 8)
    assert p4d.cluster_placement and not p4d.burstable and p4d.arch == "x86_64"
    assert p4d.zones and all(z.startswith("use1-az") for z in p4d.zones)
    old = shipped.find("p4d.24xlarge", "us-east-1")
    assert old is not None and p4d.price == old.price  # kept: moto has no pricing API
    assert p4d.spot_price == pytest.approx(0.00001)  # moto's DescribeSpotPriceHistory answer

    assert p4d.efa  # NetworkInfo.EfaSupported: what network_tier best picks
    # Neuron devices are accelerators too, named as SkyPilot names them.
    trn1 = catalog.find("trn1.32xlarge", "us-east-1")
    inf2 = catalog.find("inf2.xlarge", "us-east-1")
    assert trn1 is not None and (trn1.gpu_name, trn1.gpu_count, trn1.efa) == ("Trainium", 16, True)
    assert inf2 is not None and (inf2.gpu_name, inf2.gpu_count) == ("Inferentia2", 1)

    graviton = catalog.find("m7g.large", "us-east-1")
    assert graviton is not None and graviton.arch == "arm64"
    assert catalog.find("t3.micro", "us-east-1") is not None
    assert catalog.find("t3.micro", "us-east-1").burstable  # type: ignore[union-attr]
    # Types the shipped catalog never priced have no on-demand price: not choosable on-demand.
    unpriced = [o for o in catalog.offerings if o.price is None]
    assert unpriced and all(shipped.find(o.instance_type, o.region) is None for o in unpriced)


def test_console_output_is_read_and_decoded(moto_url: str, fake_credentials: None) -> None:
    import boto3

    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=moto_url)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                                 InstanceType="t3.micro")["Instances"][0]["InstanceId"]
    # moto's canned console is a kernel log with no host keys: read, decoded, none found.
    assert fetch_host_keys(instance, "us-east-1", endpoint_url=moto_url) == ()
