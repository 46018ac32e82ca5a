"""The AWS program under Pulumi's mocks: every resource's type, provider and key arguments.

The mocks see what pulumi-aws sends to the engine (camelCase property names), so a wrong
argument name or nested block in the program fails here, without an AWS provider binary.
Nothing here ran against AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest

from styx.clouds.aws import AwsSettings, build_program, compile_aws, key_dir
from styx.compile import ResourceGraph
from styx.spec import Spec, load_task

REPO = Path(__file__).resolve().parents[3]
AMI = "ami-0123456789abcdef0"


@dataclass
class Created:
    typ: str
    name: str
    inputs: dict[str, Any]
    provider: str | None


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    """Echo inputs back as outputs, plus what AWS would compute (ids, IPs, autonames)."""

    created: list[Created] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    monitor: Any = None

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.created.append(Created(args.typ, args.name, dict(args.inputs), args.provider))
        outputs = dict(args.inputs)
        outputs.setdefault("name", f"{args.name}-1a2b3c")  # the provider's autonaming
        if args.typ == "aws:ec2/keyPair:KeyPair":
            outputs["keyName"] = f"{args.name}-1a2b3c"
        if args.typ == "aws:ec2/instance:Instance":
            rank = int(args.inputs["tags"]["styx:rank"])
            outputs.update(publicIp=f"203.0.113.{10 + rank}", privateIp=f"10.42.0.{5 + rank}",
                           instanceState="running")
        if args.typ.startswith("pulumi-python:dynamic"):
            outputs.update(public_key="ssh-ed25519 AAAAC3Nza test",
                           private_key_path=f"{args.inputs['key_dir']}/id_ed25519")
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        self.calls.append((args.token, dict(args.args)))
        return {"id": AMI, "architecture": "x86_64"}

    def of_type(self, typ: str) -> list[Created]:
        return [c for c in self.created if c.typ == typ]


@pytest.fixture(autouse=True)
def _fresh_pulumi_runtime() -> Iterator[None]:
    """Mocks are process-wide: give each test its own root stack, and leave none behind."""
    pulumi.runtime.settings.reset_options()
    yield
    pulumi.runtime.settings.reset_options()


@dataclass
class Run:
    mocks: RecordingMocks
    exports: dict[str, Any]


class RecordingMonitor(pulumi.runtime.mocks.MockMonitor):  # type: ignore[misc]
    """Also keeps the resource options the mocks do not see (ignoreChanges), by name."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.ignore_changes: dict[str, list[str]] = {}
        self.retained: set[str] = set()

    def RegisterResource(self, request: Any) -> Any:  # gRPC names it so
        self.ignore_changes[request.name] = list(request.ignoreChanges)
        if request.retainOnDelete:
            self.retained.add(request.name)
        return super().RegisterResource(request)


def run_program(graph: ResourceGraph, monkeypatch: pytest.MonkeyPatch) -> Run:
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    mocks.monitor = monitor
    pulumi.runtime.set_mocks(mocks, project="styx", stack=graph.cluster, preview=False,
                             monitor=monitor)
    exported: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", lambda name, value: exported.__setitem__(name, value))
    program = build_program(graph)
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[misc]
    def body() -> pulumi.Output[Any]:
        program()
        keys = sorted(exported)
        return pulumi.Output.all(*[exported[k] for k in keys]).apply(
            lambda values: resolved.update(zip(keys, values, strict=True)))

    body()
    return Run(mocks, resolved)


@pytest.fixture
def gpu_graph(styx_home: Path) -> ResourceGraph:
    spec = load_task(REPO / "examples" / "aws_gpu_multinode.yaml")
    return compile_aws(spec, "gpu", AwsSettings(allowed_ssh_cidrs=("198.51.100.0/24",)))


def test_every_resource_with_its_type_and_provider(gpu_graph: ResourceGraph,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_program(gpu_graph, monkeypatch)
    types = sorted(c.typ for c in run.mocks.created)
    assert types == sorted([
        "pulumi:providers:aws", "pulumi-python:dynamic/styx-local:KeyPair",
        "aws:ec2/keyPair:KeyPair", "aws:ec2/vpc:Vpc", "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/placementGroup:PlacementGroup",
        "aws:ec2/instance:Instance", "aws:ec2/instance:Instance",
        "aws:ec2transitgateway/instanceState:InstanceState",
        "aws:ec2transitgateway/instanceState:InstanceState",
    ])
    for created in run.mocks.created:
        if created.typ.startswith("aws:"):
            # Every AWS resource goes through the explicit, region-pinned provider.
            assert created.provider is not None and "::gpu-aws::" in created.provider
    provider = run.mocks.of_type("pulumi:providers:aws")[0].inputs
    assert provider["region"] == "us-west-2"
    # Provider configuration reaches the engine as JSON text.
    assert json.loads(provider["defaultTags"])["tags"]["styx:cluster"] == "gpu"


def test_network_and_firewall_arguments(gpu_graph: ResourceGraph,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_program(gpu_graph, monkeypatch)
    vpc = run.mocks.of_type("aws:ec2/vpc:Vpc")[0].inputs
    assert (vpc["cidrBlock"], vpc["enableDnsHostnames"]) == ("10.42.0.0/16", True)
    subnet = run.mocks.of_type("aws:ec2/subnet:Subnet")[0].inputs
    assert subnet["vpcId"] == "gpu-vpc-id" and subnet["mapPublicIpOnLaunch"] is True
    routes = run.mocks.of_type("aws:ec2/routeTable:RouteTable")[0].inputs
    assert routes["routes"] == [{"cidrBlock": "0.0.0.0/0", "gatewayId": "gpu-gateway-id"}]
    assoc = run.mocks.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")[0].inputs
    assert assoc == {"subnetId": "gpu-subnet-id", "routeTableId": "gpu-routes-id"}
    firewall = run.mocks.of_type("aws:ec2/securityGroup:SecurityGroup")[0].inputs
    assert firewall["vpcId"] == "gpu-vpc-id"
    ssh, inside = firewall["ingress"]
    assert ssh == {"description": "SSH", "protocol": "tcp", "fromPort": 22, "toPort": 22,
                   "cidrBlocks": ["198.51.100.0/24"]}
    assert inside["self"] is True and inside["protocol"] == "-1"
    assert firewall["egress"][0]["cidrBlocks"] == ["0.0.0.0/0"]
    key = run.mocks.of_type("aws:ec2/keyPair:KeyPair")[0].inputs
    assert key["publicKey"] == "ssh-ed25519 AAAAC3Nza test"
    placement = run.mocks.of_type("aws:ec2/placementGroup:PlacementGroup")[0].inputs
    assert placement["strategy"] == "cluster"


def test_instances_and_the_image_lookup(gpu_graph: ResourceGraph,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_program(gpu_graph, monkeypatch)
    (token, lookup), = run.mocks.calls
    assert token == "aws:ec2/getAmi:getAmi"
    assert lookup["owners"] == ["amazon"] and lookup["mostRecent"] is True
    assert {f["name"] for f in lookup["filters"]} == {"name", "architecture",
                                                      "virtualization-type"}
    head, worker = sorted(run.mocks.of_type("aws:ec2/instance:Instance"), key=lambda c: c.name)
    for rank, created in enumerate((head, worker)):
        args = created.inputs
        assert args["ami"] == AMI
        assert args["instanceType"] == "p3.16xlarge"
        assert args["subnetId"] == "gpu-subnet-id"
        assert args["vpcSecurityGroupIds"] == ["gpu-firewall-id"]
        assert args["keyName"] == "gpu-key-pair-1a2b3c"
        assert args["placementGroup"] == "gpu-placement-1a2b3c"
        assert args["associatePublicIpAddress"] is True
        assert args["instanceInitiatedShutdownBehavior"] == "terminate"  # autostop down
        assert args["rootBlockDevice"] == {"volumeSize": 500, "volumeType": "gp3", "iops": 6000,
                                           "throughput": 375, "encrypted": True,
                                           "deleteOnTermination": True}
        assert args["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required"}
        assert args["tags"]["styx:rank"] == str(rank)
        assert args["tags"]["styx:spec-hash"] == gpu_graph.spec_hash
        assert f"STYX_NODE_RANK={rank}" in args["userData"]
        assert "instanceMarketOptions" not in args
        # First-boot settings never restart a running node (see _program.IGNORE_CHANGES).
        assert run.mocks.monitor.ignore_changes[created.name] == ["userData"]
    assert run.mocks.monitor.ignore_changes["gpu-vpc"] == []


def test_spot_market_options_reach_pulumi_aws(task: Callable[[str], Spec], styx_home: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    spec = task("resources:\n  cloud: aws\n  cpus: 4\n  use_spot: true\n  image_id: ami-0abc\n")
    run = run_program(compile_aws(spec, "spot", AwsSettings()), monkeypatch)
    args = run.mocks.of_type("aws:ec2/instance:Instance")[0].inputs
    assert args["instanceMarketOptions"] == {
        "marketType": "spot",
        "spotOptions": {"instanceInterruptionBehavior": "terminate",
                        "spotInstanceType": "one-time"},
    }
    assert args["ami"] == "ami-0abc" and run.mocks.calls == []


def test_existing_network_creates_none(task: Callable[[str], Spec], styx_home: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    settings = AwsSettings(vpc_id="vpc-0123", subnet_id="subnet-0456")
    run = run_program(compile_aws(task("resources:\n  cloud: aws\n  cpus: 2\n"), "byo",
                                  settings), monkeypatch)
    types = {c.typ for c in run.mocks.created}
    assert not types & {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet",
                        "aws:ec2/internetGateway:InternetGateway"}
    assert run.mocks.of_type("aws:ec2/instance:Instance")[0].inputs["subnetId"] == "subnet-0456"
    assert run.mocks.of_type("aws:ec2/securityGroup:SecurityGroup")[0].inputs[
        "vpcId"] == "vpc-0123"


def test_outputs_for_the_nodes_stage(gpu_graph: ResourceGraph, styx_home: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_program(gpu_graph, monkeypatch)
    out = run.exports
    assert (out["cloud"], out["cluster"], out["region"]) == ("aws", "gpu", "us-west-2")
    assert out["hourly_cost"] == pytest.approx(48.96)
    assert out["spec_hash"] == gpu_graph.spec_hash
    assert out["node_fields"] == gpu_graph.fields.to_dict()
    assert out["autostop"] == {"idle_minutes": 60, "down": True, "wait_for": "jobs_and_ssh"}
    # The private key stays a file on this machine; the state holds only its path.
    assert out["private_key_path"] == str(key_dir("gpu") / "id_ed25519")
    assert key_dir("gpu").is_relative_to(styx_home.resolve())
    assert out["nodes"] == [
        {"name": "head", "rank": 0, "address": "203.0.113.10", "private_address": "10.42.0.5",
         "port": 22, "user": "ubuntu", "host_public_key": "", "instance_id": "gpu-head-id",
         "state": "running", "ports": []},
        {"name": "worker1", "rank": 1, "address": "203.0.113.11",
         "private_address": "10.42.0.6", "port": 22, "user": "ubuntu", "host_public_key": "",
         "instance_id": "gpu-worker1-id", "state": "running", "ports": []},
    ]


def test_a_wrong_argument_name_fails(gpu_graph: ResourceGraph,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    broken = [replace(r, args={**r.args, "instance_typ": "m6i.large"})
              if r.kind == "aws:ec2/instance:Instance" else r for r in gpu_graph.resources]
    with pytest.raises(TypeError, match="instance_typ"):
        run_program(replace(gpu_graph, resources=tuple(broken)), monkeypatch)


def test_node_state_is_an_instance_state_resource(gpu_graph: ResourceGraph, styx_home: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`styx stop`/`start` compile to pulumi-aws's InstanceState of each instance."""
    state_type = "aws:ec2transitgateway/instanceState:InstanceState"
    running = run_program(gpu_graph, monkeypatch)
    states = {c.name: c.inputs for c in running.mocks.of_type(state_type)}
    assert states == {
        "gpu-head-state": {"instanceId": "gpu-head-id", "state": "running"},
        "gpu-worker1-state": {"instanceId": "gpu-worker1-id", "state": "running"},
    }
    pulumi.runtime.settings.reset_options()
    stopped_graph = gpu_graph.with_node_state("stopped")
    stopped = run_program(stopped_graph, monkeypatch)
    assert {c.inputs["state"] for c in stopped.mocks.of_type(state_type)} == {"stopped"}
    # The instances themselves are unchanged: a stop is no replacement.
    assert ([c.inputs for c in stopped.mocks.of_type("aws:ec2/instance:Instance")]
            == [c.inputs for c in running.mocks.of_type("aws:ec2/instance:Instance")])
    assert [n["state"] for n in stopped.exports["nodes"]] == ["stopped", "stopped"]
    # Stopped, the cluster costs its disks only: 2 root volumes at gp3's $0.08/GB-month.
    sizes = [c.inputs["rootBlockDevice"]["volumeSize"]
             for c in stopped.mocks.of_type("aws:ec2/instance:Instance")]
    assert stopped.exports["hourly_cost"] == pytest.approx(sum(sizes) * 0.08 / 730, abs=1e-6)
    assert stopped.exports["hourly_cost"] < gpu_graph.hourly_cost / 100


@pytest.mark.parametrize(("autostop", "spot", "behaviour"), [
    ("{idle_minutes: 10}", False, "stop"),
    ("{idle_minutes: 10, down: true}", False, "terminate"),
    ("10", True, "terminate"),  # a one-time spot instance cannot stop
])
def test_autostop_compiles_to_the_shutdown_behaviour(
    task: Callable[[str], Spec], styx_home: Path, monkeypatch: pytest.MonkeyPatch,
    autostop: str, spot: bool, behaviour: str,
) -> None:
    """The head's agent powers the nodes off; EC2 stops or terminates them as the program said."""
    spec = task(f"resources: {{infra: aws/us-east-1, cpus: 4, use_spot: {str(spot).lower()}, "
                f"autostop: {autostop}}}\nnum_nodes: 2\n")
    graph = compile_aws(spec, "auto", AwsSettings(allowed_ssh_cidrs=("198.51.100.0/24",)))
    run = run_program(graph, monkeypatch)
    instances = run.mocks.of_type("aws:ec2/instance:Instance")
    assert [i.inputs["instanceInitiatedShutdownBehavior"] for i in instances] == [behaviour] * 2
    assert run.exports["autostop"]["idle_minutes"] == 10


def test_the_agent_powers_aws_nodes_off() -> None:
    from styx.clouds import cloud_named

    action = cloud_named("aws").autostop_action("c", ["head", "worker1"], Path("/nowhere"))
    assert action is not None
    assert list(action["argv"]) == ["{python}", "{agent}", "poweroff"]
