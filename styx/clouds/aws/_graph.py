"""Compile a spec into the AWS resource graph: network, firewall, key pair, instances (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from styx.clouds.aws._catalog import Catalog, InstanceOffering, load_catalog
from styx.clouds.aws._optimizer import Choice, choose_instance
from styx.clouds.aws._settings import AwsSettings
from styx.clouds.aws._storage import storage_decls
from styx.clouds.aws._userdata import UserData, render_user_data
from styx.errors import CloudError
from styx.graph import ResourceDecl, ResourceGraph, node_fields, node_name, ref
from styx.spec import Autostop, PortRange, Resources, Spec

__all__ = [
    "DEFAULT_DISK_GB",
    "KIND_AMI",
    "KIND_INSTANCE",
    "KIND_KEY_FILE",
    "KIND_PROVIDER",
    "SSH_PORT",
    "choose_for_spec",
    "compile_aws",
]

SSH_PORT: Final = 22
DEFAULT_DISK_GB: Final = 256  # SkyPilot's default root volume

KIND_PROVIDER: Final = "pulumi:providers:aws"
KIND_KEY_FILE: Final = "styx-local:KeyPair"  # generated on the applying machine, see _program
KIND_KEY_PAIR: Final = "aws:ec2/keyPair:KeyPair"
KIND_VPC: Final = "aws:ec2/vpc:Vpc"
KIND_SUBNET: Final = "aws:ec2/subnet:Subnet"
KIND_GATEWAY: Final = "aws:ec2/internetGateway:InternetGateway"
KIND_ROUTE_TABLE: Final = "aws:ec2/routeTable:RouteTable"
KIND_ROUTE_ASSOC: Final = "aws:ec2/routeTableAssociation:RouteTableAssociation"
KIND_SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
KIND_PLACEMENT: Final = "aws:ec2/placementGroup:PlacementGroup"
KIND_INSTANCE: Final = "aws:ec2/instance:Instance"
KIND_AMI: Final = "aws:ec2/getAmi:getAmi"  # a lookup (invoke), not a resource
# An instance's running/stopped state: pulumi-aws keeps this resource in its transit gateway
# module, but it is the EC2 instance state (StopInstances / StartInstances).
KIND_INSTANCE_STATE: Final = "aws:ec2transitgateway/instanceState:InstanceState"
# EBS gp3 in us-east-1, per GB-month, over 730 hours: what a stopped node still costs.
EBS_GB_HOUR: Final = 0.08 / 730

# A graph value that is either known now or another resource's output (a `ref`).
Value = str | dict[str, str]

_VPC_CIDR: Final = "10.42.0.0/16"
_SUBNET_CIDR: Final = "10.42.0.0/20"
_CANONICAL: Final = "099720109477"
_UBUNTU_LTS: Final = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-{arch}-server-*"
_GPU_IMAGE: Final = "Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) *"
_UBUNTU_ARCH: Final = {"x86_64": "amd64", "arm64": "arm64"}
_CLUSTER_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")

# SkyPilot's AWS disk tiers: volume type, IOPS (None: the type's default); gp3 throughput
# is IOPS/16 MiB/s, as SkyPilot sets it. "best" is the highest tier.
_DISK_TIERS: Final[Mapping[str, tuple[str, int | None]]] = {
    "low": ("standard", None),
    "medium": ("gp3", 3500),
    "high": ("gp3", 6000),
    "ultra": ("io2", 20000),
    "best": ("io2", 20000),
}


def choose_for_spec(spec: Spec, settings: AwsSettings, catalog: Catalog | None = None) -> Choice:
    """The optimizer's choice for a spec: cheapest fitting instance, with its candidate table."""
    chosen_catalog = catalog if catalog is not None else load_catalog(settings.catalog_path)
    return choose_instance(spec.candidates or (spec.resources,), spec.candidates_ordered,
                           chosen_catalog, settings.region)


def compile_aws(spec: Spec, cluster: str, settings: AwsSettings,
                choice: Choice | None = None) -> ResourceGraph:
    """The AWS graph for `spec`; CloudError when no instance fits or the request is invalid.

    `choice` is the optimizer's result when the caller already has it (to print its table).
    """
    if not _CLUSTER_NAME.match(cluster):
        raise CloudError(f"cluster name {cluster!r} must be 1-63 letters, digits, '-', '_' "
                         "or '.'", cloud="aws")
    picked = choice if choice is not None else choose_for_spec(spec, settings)
    offering, resources = picked.offering, picked.resources
    spec_hash = spec.fingerprint()
    autostop = resources.autostop or spec.resources.autostop
    # One-time spot instances cannot be stopped, only terminated.
    terminate = picked.use_spot or (autostop is not None and autostop.down)
    shutdown = "terminate" if terminate else "stop"
    tags = {"styx:cluster": cluster, "managed-by": "styx", **dict(resources.labels)}

    def named(suffix: str) -> str:
        return f"{cluster}-{suffix}"

    decls: list[ResourceDecl] = [
        ResourceDecl(KIND_PROVIDER, named("aws"),
                     {"region": offering.region, "default_tags": {"tags": tags}}),
        ResourceDecl(KIND_KEY_FILE, named("keys"), {"cluster": cluster}),
        ResourceDecl(KIND_KEY_PAIR, named("key-pair"), {
            "public_key": ref(named("keys"), "public_key"),
            "tags": {"Name": named("key-pair")},
        }),
    ]
    vpc_id, subnet_id, network_ready = _network(decls, named, settings, offering, resources)
    decls.append(_security_group(named, vpc_id, settings, resources))
    placement = None
    if spec.num_nodes > 1 and offering.cluster_placement:
        placement = named("placement")
        decls.append(ResourceDecl(KIND_PLACEMENT, placement,
                                  {"strategy": "cluster", "tags": {"Name": placement}}))
    ami = _image(decls, named, offering, resources)
    buckets, profile = storage_decls(spec, named)
    decls += buckets
    nodes: list[str] = []
    for rank in range(spec.num_nodes):
        node = node_name(rank)
        nodes.append(node)
        user_data = render_user_data(UserData(
            cluster=cluster, node=node, rank=rank, num_nodes=spec.num_nodes,
            ssh_user=settings.ssh_user, autostop=autostop, shutdown_behavior=shutdown,
        ))
        args: dict[str, Any] = {
            "ami": ami,
            "instance_type": offering.instance_type,
            "subnet_id": subnet_id,
            "vpc_security_group_ids": [ref(named("firewall"), "id")],
            "key_name": ref(named("key-pair"), "key_name"),
            "associate_public_ip_address": True,
            "instance_initiated_shutdown_behavior": shutdown,
            "user_data": user_data,
            "root_block_device": _root_volume(resources),
            # IMDSv2 only: a process on the node cannot be tricked into leaking credentials.
            "metadata_options": {"http_endpoint": "enabled", "http_tokens": "required"},
            # styx:cluster and the labels come from the provider's default tags.
            "tags": {
                "Name": named(node),
                "styx:node": node,
                "styx:rank": str(rank),
                "styx:spec-hash": spec_hash,
                "styx:ssh-user": settings.ssh_user,
            },
        }
        if picked.use_spot:
            args["instance_market_options"] = {
                "market_type": "spot",
                "spot_options": {"instance_interruption_behavior": "terminate",
                                 "spot_instance_type": "one-time"},
            }
        if placement is not None:
            args["placement_group"] = ref(placement, "name")
        if profile is not None:
            args["iam_instance_profile"] = profile  # the nodes' access to the task's buckets
        decls.append(ResourceDecl(KIND_INSTANCE, named(node), args, depends_on=network_ready))
        decls.append(ResourceDecl(KIND_INSTANCE_STATE, named(f"{node}-state"), {
            "instance_id": ref(named(node), "id"),
            "state": "running",
        }))  # fmt: skip
    return ResourceGraph(
        cloud="aws",
        cluster=cluster,
        resources=tuple(decls),
        nodes=tuple(nodes),
        fields=node_fields(spec),
        spec_hash=spec_hash,
        hourly_cost=round(picked.hourly * spec.num_nodes, 6),
        warnings=tuple(_warnings(spec, settings, picked, autostop)),
        autostop=autostop.to_dict() if autostop is not None else None,
        ports=tuple(str(p) for p in resources.ports),
        choice=picked,
        stopped_hourly_cost=round(
            (resources.disk_size_gb or DEFAULT_DISK_GB) * EBS_GB_HOUR * spec.num_nodes, 6),
    )


def _network(decls: list[ResourceDecl], named: Callable[[str], str], settings: AwsSettings,
             offering: InstanceOffering, resources: Resources
             ) -> tuple[Value, Value, tuple[str, ...]]:
    """Append the network (unless the stack names one): VPC id, subnet id, what nodes wait on."""
    if settings.vpc_id is not None and settings.subnet_id is not None:
        return settings.vpc_id, settings.subnet_id, ()
    vpc, gateway, subnet = named("vpc"), named("gateway"), named("subnet")
    routes, assoc = named("routes"), named("routes-subnet")
    subnet_args: dict[str, Any] = {
        "vpc_id": ref(vpc, "id"),
        "cidr_block": _SUBNET_CIDR,
        "map_public_ip_on_launch": True,
        "tags": {"Name": subnet},
    }
    # A zone the instance type is offered in: by name when the task names one, else the
    # first zone ID the catalog records (IDs, unlike names, mean the same in every account).
    if resources.zone:
        subnet_args["availability_zone"] = resources.zone
    elif offering.zones:
        subnet_args["availability_zone_id"] = offering.zones[0]
    decls += [
        ResourceDecl(KIND_VPC, vpc, {"cidr_block": _VPC_CIDR, "enable_dns_hostnames": True,
                                     "enable_dns_support": True, "tags": {"Name": vpc}}),
        ResourceDecl(KIND_GATEWAY, gateway, {"vpc_id": ref(vpc, "id"), "tags": {"Name": gateway}}),
        ResourceDecl(KIND_SUBNET, subnet, subnet_args),
        ResourceDecl(KIND_ROUTE_TABLE, routes, {
            "vpc_id": ref(vpc, "id"),
            "routes": [{"cidr_block": "0.0.0.0/0", "gateway_id": ref(gateway, "id")}],
            "tags": {"Name": routes},
        }),
        ResourceDecl(KIND_ROUTE_ASSOC, assoc, {"subnet_id": ref(subnet, "id"),
                                               "route_table_id": ref(routes, "id")}),
    ]
    # First boot installs packages: the route to the internet must exist before it.
    return ref(vpc, "id"), ref(subnet, "id"), (assoc,)


def _cidr_args(cidrs: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    v4 = [c for c in cidrs if ":" not in c]
    v6 = [c for c in cidrs if ":" in c]
    if v4:
        out["cidr_blocks"] = v4
    if v6:
        out["ipv6_cidr_blocks"] = v6
    return out


def _security_group(named: Callable[[str], str], vpc_id: Value, settings: AwsSettings,
                    resources: Resources) -> ResourceDecl:
    ingress: list[dict[str, Any]] = [
        {"description": "SSH", "protocol": "tcp", "from_port": SSH_PORT, "to_port": SSH_PORT,
         **_cidr_args(settings.allowed_ssh_cidrs)},
        {"description": "all traffic between the cluster's nodes", "protocol": "-1",
         "from_port": 0, "to_port": 0, "self": True},
    ]
    for ports in _world_ports(resources):
        ingress.append({"description": f"task port {ports}", "protocol": "tcp",
                        "from_port": ports.start, "to_port": ports.end,
                        "cidr_blocks": ["0.0.0.0/0"]})
    return ResourceDecl(KIND_SECURITY_GROUP, named("firewall"), {
        "vpc_id": vpc_id,
        "description": "Styx cluster: SSH, the task's ports, all traffic inside the cluster",
        "ingress": ingress,
        "egress": [{"description": "all outbound", "protocol": "-1", "from_port": 0,
                    "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}],
        "tags": {"Name": named("firewall")},
    })


def _image(decls: list[ResourceDecl], named: Callable[[str], str], offering: InstanceOffering,
           resources: Resources) -> Value:
    """The AMI: the task's image_id (one, or per region), else a lookup of a stock image."""
    image = resources.image_id
    if isinstance(image, Mapping):
        image = image.get(offering.region)
        if image is None:
            raise CloudError(f"image_id names no AMI for region {offering.region}", cloud="aws",
                             field="resources.image_id")
    if image is not None:
        if not image.startswith("ami-"):
            raise CloudError(f"image_id {image!r} is not an AMI id (ami-...); Styx does not "
                             "resolve image names", cloud="aws", field="resources.image_id")
        return image
    if offering.gpu_count > 0:
        owners, name = ["amazon"], _GPU_IMAGE
    else:
        owners, name = [_CANONICAL], _UBUNTU_LTS.format(arch=_UBUNTU_ARCH[offering.arch])
    lookup = named("image")
    decls.append(ResourceDecl(KIND_AMI, lookup, {
        "most_recent": True,
        "owners": owners,
        "filters": [
            {"name": "name", "values": [name]},
            {"name": "architecture", "values": [offering.arch]},
            {"name": "virtualization-type", "values": ["hvm"]},
        ],
    }))
    return ref(lookup, "id")


def _root_volume(resources: Resources) -> dict[str, Any]:
    tier = resources.disk_tier or "medium"
    if tier not in _DISK_TIERS:
        raise CloudError(f"unknown disk_tier {tier!r} (one of {', '.join(_DISK_TIERS)})",
                         cloud="aws", field="resources.disk_tier")
    volume_type, iops = _DISK_TIERS[tier]
    volume: dict[str, Any] = {
        "volume_size": resources.disk_size_gb or DEFAULT_DISK_GB,
        "volume_type": volume_type,
        "encrypted": True,
        "delete_on_termination": True,
    }
    if iops is not None:
        volume["iops"] = iops
    if volume_type == "gp3" and iops is not None:
        volume["throughput"] = iops // 16
    return volume


def _world_ports(resources: Resources) -> list[PortRange]:
    """The task's port ranges opened to every address; port 22 alone has the SSH rule
    already (a second, identical rule is one AWS refuses)."""
    return [p for p in resources.ports if (p.start, p.end) != (SSH_PORT, SSH_PORT)]


def _warnings(spec: Spec, settings: AwsSettings, choice: Choice,
              autostop: Autostop | None) -> list[str]:
    found: list[str] = []
    if choice.resources.network_tier == "best":
        found.append(f"network_tier best: {choice.offering.instance_type} has EFA and the nodes "
                     "share a cluster placement group, but Styx does not attach EFA network "
                     "interfaces yet (the nodes talk over ENA)")
    if settings.ssh_open_to_world:
        found.append("SSH (port 22) is open to 0.0.0.0/0: set allowed_ssh_cidrs in the stack "
                     "file to the networks that need it")
    for ports in _world_ports(choice.resources):
        found.append(f"task port {ports} is open to the world (any IPv4 address): anyone on "
                     "the internet can reach it; drop it from `ports` unless that is meant")
    if choice.use_spot and autostop is not None and not autostop.down:
        found.append("spot instances cannot stop: autostop will terminate them, and their "
                     "disks with them (set autostop down: true to say so, or drop use_spot)")
    if choice.offering.gpu_count > 0 and choice.resources.image_id is not None:
        found.append(f"{choice.offering.instance_type} has GPUs but image_id names a custom "
                     "image: Styx cannot check that it has NVIDIA drivers (leave image_id "
                     "out to get a GPU-ready image)")
    if spec.num_nodes > 1 and not choice.offering.cluster_placement:
        found.append(f"{choice.offering.instance_type} cannot join a cluster placement group: "
                     "the nodes may be far apart in the network")
    return found
