"""The AWS resource graph: goldens for the examples, and each rule of compile_aws."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from styx.clouds.aws import AwsSettings, compile_aws, shipped_catalog_path
from styx.compile import ResourceGraph
from styx.errors import CloudError
from styx.spec import Spec, load_task

REPO = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).parent / "golden"
SHIPPED = AwsSettings(catalog_path=shipped_catalog_path())


def by_kind(graph: ResourceGraph, kind: str) -> list[Mapping[str, Any]]:
    return [r.args for r in graph.resources if r.kind.endswith(kind)]


def one(graph: ResourceGraph, kind: str) -> Mapping[str, Any]:
    found = by_kind(graph, kind)
    assert len(found) == 1, f"{kind}: {len(found)} found"
    return found[0]


@pytest.mark.parametrize("example", ["aws_cpu", "aws_gpu_multinode"])
def test_examples_match_their_goldens(example: str, golden: Callable[[Path, str], None],
                                      styx_home: Path) -> None:
    spec = load_task(REPO / "examples" / f"{example}.yaml")
    graph = compile_aws(spec, example.replace("_", "-"), SHIPPED)
    golden(GOLDEN / f"{example}.json", json.dumps(graph.to_dict(), indent=2, sort_keys=True) + "\n")


def test_cpu_example_is_a_complete_cluster() -> None:
    graph = compile_aws(load_task(REPO / "examples" / "aws_cpu.yaml"), "c", SHIPPED)
    kinds = [r.kind for r in graph.resources]
    assert kinds == [
        "pulumi:providers:aws", "styx-local:KeyPair", "aws:ec2/keyPair:KeyPair",
        "aws:ec2/vpc:Vpc", "aws:ec2/internetGateway:InternetGateway", "aws:ec2/subnet:Subnet",
        "aws:ec2/routeTable:RouteTable", "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/getAmi:getAmi",
        "aws:ec2/instance:Instance", "aws:ec2transitgateway/instanceState:InstanceState",
    ]
    assert graph.nodes == ("head",)
    assert graph.hourly_cost == pytest.approx(0.192)  # m6i.xlarge in us-east-1
    instance = one(graph, "Instance")
    assert instance["instance_type"] == "m6i.xlarge"
    assert instance["instance_initiated_shutdown_behavior"] == "stop"
    assert "instance_market_options" not in instance and "placement_group" not in instance
    assert instance["tags"]["styx:spec-hash"] == graph.spec_hash
    assert instance["root_block_device"] == {
        "volume_size": 100, "volume_type": "gp3", "encrypted": True,
        "delete_on_termination": True, "iops": 3500, "throughput": 218,
    }
    assert one(graph, "Subnet")["availability_zone_id"] == "use1-az1"
    ami = one(graph, "getAmi")
    assert ami["owners"] == ["099720109477"]
    assert "ubuntu-noble-24.04-amd64-server" in ami["filters"][0]["values"][0]
    assert graph.autostop == {"idle_minutes": 30, "down": False, "wait_for": "jobs_and_ssh"}
    provider = one(graph, "providers:aws")
    assert provider["region"] == "us-east-1"
    assert provider["default_tags"]["tags"]["team"] == "data"


def test_security_group_opens_ssh_cluster_and_task_ports(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  cloud: aws\n  cpus: 2\n  ports: [8080, 9000-9010]\n")
    settings = AwsSettings(allowed_ssh_cidrs=("203.0.113.0/24", "2001:db8::/32"),
                           catalog_path=shipped_catalog_path())
    graph = compile_aws(spec, "c", settings)
    rules = one(graph, "SecurityGroup")["ingress"]
    assert rules[0] == {"description": "SSH", "protocol": "tcp", "from_port": 22, "to_port": 22,
                        "cidr_blocks": ["203.0.113.0/24"], "ipv6_cidr_blocks": ["2001:db8::/32"]}
    assert rules[1]["self"] is True and rules[1]["protocol"] == "-1"
    assert [(r["from_port"], r["to_port"]) for r in rules[2:]] == [(8080, 8080), (9000, 9010)]
    assert not any("0.0.0.0/0" in w for w in graph.warnings)


def test_ssh_open_to_the_world_is_a_warning(task: Callable[[str], Spec]) -> None:
    graph = compile_aws(task("resources:\n  cloud: aws\n  cpus: 2\n"), "c", SHIPPED)
    assert graph.warnings == ("SSH (port 22) is open to 0.0.0.0/0: set allowed_ssh_cidrs in "
                              "the stack file to the networks that need it",)


def test_spot_uses_market_options_and_terminates(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  infra: aws/us-east-1\n  cpus: 4\n  use_spot: true\n"
                "  autostop: 10\n")
    graph = compile_aws(spec, "c", SHIPPED)
    instance = one(graph, "Instance")
    assert instance["instance_market_options"] == {
        "market_type": "spot",
        "spot_options": {"instance_interruption_behavior": "terminate",
                         "spot_instance_type": "one-time"},
    }
    assert instance["instance_initiated_shutdown_behavior"] == "terminate"
    assert any(w.startswith("spot instances cannot stop") for w in graph.warnings)
    assert instance["instance_type"] == "c6i.xlarge"  # the cheapest 4-vCPU spot price
    assert graph.hourly_cost == pytest.approx(0.0697)


def test_autostop_down_terminates(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  cloud: aws\n  cpus: 2\n  autostop:\n    idle_minutes: 5\n"
                "    down: true\n")
    graph = compile_aws(spec, "c", SHIPPED)
    assert one(graph, "Instance")["instance_initiated_shutdown_behavior"] == "terminate"
    assert "STYX_AUTOSTOP_DOWN=true" in one(graph, "Instance")["user_data"]


def test_multi_node_gets_a_placement_group_where_supported(task: Callable[[str], Spec]) -> None:
    spec = task("num_nodes: 3\nresources:\n  cloud: aws\n  accelerators: V100:8\n")
    graph = compile_aws(spec, "gpu", SHIPPED)
    assert graph.nodes == ("head", "worker1", "worker2")
    assert one(graph, "PlacementGroup")["strategy"] == "cluster"
    instances = by_kind(graph, "Instance")
    assert [i["tags"]["styx:rank"] for i in instances] == ["0", "1", "2"]
    assert all(i["placement_group"] == {"$ref": "gpu-placement.name"} for i in instances)
    assert graph.hourly_cost == pytest.approx(3 * 24.48)
    ami = one(graph, "getAmi")
    assert ami["owners"] == ["amazon"] and "Nvidia Driver GPU" in ami["filters"][0]["values"][0]
    # Burstable types cannot be placed: no group, and a warning says so.
    t3 = compile_aws(task("num_nodes: 2\nresources:\n  cloud: aws\n  instance_type: t3.large\n"),
                     "t3", SHIPPED)
    assert by_kind(t3, "PlacementGroup") == []
    assert any("cluster placement group" in w for w in t3.warnings)


def test_existing_network_replaces_the_vpc(task: Callable[[str], Spec]) -> None:
    settings = AwsSettings(vpc_id="vpc-123", subnet_id="subnet-456",
                           catalog_path=shipped_catalog_path())
    graph = compile_aws(task("resources:\n  cloud: aws\n  cpus: 2\n"), "c", settings)
    assert not any(k in r.kind for r in graph.resources
                   for k in ("Vpc", "Subnet", "InternetGateway", "RouteTable"))
    assert one(graph, "SecurityGroup")["vpc_id"] == "vpc-123"
    instance = next(r for r in graph.resources if r.kind.endswith("Instance"))
    assert instance.args["subnet_id"] == "subnet-456" and instance.depends_on == ()
    with pytest.raises(CloudError, match="both vpc_id and subnet_id"):
        AwsSettings(vpc_id="vpc-123")


def test_image_id_wins_and_gpu_custom_image_warns(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  cloud: aws\n  accelerators: T4:1\n  image_id: ami-0abc\n")
    graph = compile_aws(spec, "c", SHIPPED)
    assert by_kind(graph, "getAmi") == []
    assert one(graph, "Instance")["ami"] == "ami-0abc"
    assert any("cannot check that it has NVIDIA drivers" in w for w in graph.warnings)
    per_region = task("resources:\n  cloud: aws\n  cpus: 2\n  image_id:\n"
                      "    eu-west-1: ami-0eu\n    us-west-2: ami-0usw\n")
    graph = compile_aws(per_region, "c", SHIPPED)
    region = one(graph, "providers:aws")["region"]
    assert one(graph, "Instance")["ami"] == {"eu-west-1": "ami-0eu", "us-west-2": "ami-0usw"}[
        region]
    with pytest.raises(CloudError, match="not an AMI id"):
        compile_aws(task("resources:\n  cloud: aws\n  cpus: 2\n  image_id: docker:ubuntu\n"),
                    "c", SHIPPED)


@pytest.mark.parametrize(
    ("tier", "volume"),
    [
        ("low", {"volume_type": "standard"}),
        ("medium", {"volume_type": "gp3", "iops": 3500, "throughput": 218}),
        ("high", {"volume_type": "gp3", "iops": 6000, "throughput": 375}),
        ("ultra", {"volume_type": "io2", "iops": 20000}),
        ("best", {"volume_type": "io2", "iops": 20000}),
    ],
)
def test_disk_tiers(tier: str, volume: dict[str, Any], task: Callable[[str], Spec]) -> None:
    spec = task(f"resources:\n  cloud: aws\n  cpus: 2\n  disk_tier: {tier}\n")
    root = one(compile_aws(spec, "c", SHIPPED), "Instance")["root_block_device"]
    assert root == {"volume_size": 256, "encrypted": True, "delete_on_termination": True,
                    **volume}


def test_zone_named_by_the_task(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  infra: aws/us-west-2/us-west-2b\n  cpus: 2\n")
    subnet = one(compile_aws(spec, "c", SHIPPED), "Subnet")
    assert subnet["availability_zone"] == "us-west-2b" and "availability_zone_id" not in subnet


def test_bad_cluster_name(task: Callable[[str], Spec]) -> None:
    with pytest.raises(CloudError, match="cluster name"):
        compile_aws(task("resources:\n  cloud: aws\n  cpus: 2\n"), "no spaces", SHIPPED)


def test_compile_uses_the_settings_catalog(task: Callable[[str], Spec],
                                           catalog_file: Path) -> None:
    settings = AwsSettings(catalog_path=catalog_file)
    graph = compile_aws(task("resources:\n  cloud: aws\n  accelerators: V100-32GB:8\n"), "c",
                        settings)
    assert one(graph, "Instance")["instance_type"] == "p3dn.24xlarge"
