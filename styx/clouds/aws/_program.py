"""The AWS inline Pulumi program: declare each graph entry as its pulumi-aws resource or lookup.

Graph arguments are pulumi-aws's own Python argument names, so a wrong name fails loudly
(TypeError from the resource or Args class) instead of being dropped. Nested blocks become
their typed Args classes for the same reason.

The cluster's SSH key is made on the machine that applies (the shared key-pair resource,
styx.clouds._keypair): only its public half and its path enter the state, never the
private key.

Host keys: EC2 reports none through its API, so `host_public_key` is exported empty. The
first-boot script prints the node's host keys on the serial console, and
`styx.clouds.aws.fetch_host_keys` reads them back with GetConsoleOutput, an authenticated
call, so known_hosts is fed without trusting the first SSH connection (no TOFU).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import pulumi
import pulumi_aws as aws

from styx.clouds._exports import export_cluster
from styx.clouds._keypair import LocalKeyPair, LocalKeyPairArgs
from styx.clouds._sdk import trim_sdk_costs
from styx.clouds.aws._graph import (
    KIND_AMI,
    KIND_INSTANCE,
    KIND_INSTANCE_STATE,
    KIND_KEY_FILE,
    KIND_PROVIDER,
    SSH_PORT,
)
from styx.clouds.aws._settings import key_dir
from styx.clouds.aws._storage import (
    KIND_BUCKET,
    KIND_PROFILE,
    KIND_ROLE,
    KIND_ROLE_POLICY,
    PERSISTENT_TAG,
)
from styx.errors import CloudError
from styx.graph import ResourceDecl, ResourceGraph

__all__ = ["IGNORE_CHANGES", "build_program"]

# Resource kinds and their pulumi-aws classes.
_RESOURCES: Final[Mapping[str, Callable[..., pulumi.CustomResource]]] = {
    "aws:ec2/vpc:Vpc": aws.ec2.Vpc,
    "aws:ec2/subnet:Subnet": aws.ec2.Subnet,
    "aws:ec2/internetGateway:InternetGateway": aws.ec2.InternetGateway,
    "aws:ec2/routeTable:RouteTable": aws.ec2.RouteTable,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": aws.ec2.RouteTableAssociation,
    "aws:ec2/securityGroup:SecurityGroup": aws.ec2.SecurityGroup,
    "aws:ec2/keyPair:KeyPair": aws.ec2.KeyPair,
    "aws:ec2/placementGroup:PlacementGroup": aws.ec2.PlacementGroup,
    KIND_INSTANCE: aws.ec2.Instance,
    # A task's buckets and the nodes' access to them (styx.clouds.aws._storage).
    KIND_BUCKET: aws.s3.Bucket,
    KIND_ROLE: aws.iam.Role,
    KIND_ROLE_POLICY: aws.iam.RolePolicy,
    KIND_PROFILE: aws.iam.InstanceProfile,
    KIND_INSTANCE_STATE: aws.ec2transitgateway.InstanceState,
}

# Nested argument blocks, by (kind, dotted path), and the Args class each one becomes.
_NESTED: Final[Mapping[tuple[str, str], Callable[..., Any]]] = {
    (KIND_PROVIDER, "default_tags"): aws.ProviderDefaultTagsArgs,
    ("aws:ec2/routeTable:RouteTable", "routes"): aws.ec2.RouteTableRouteArgs,
    ("aws:ec2/securityGroup:SecurityGroup", "ingress"): aws.ec2.SecurityGroupIngressArgs,
    ("aws:ec2/securityGroup:SecurityGroup", "egress"): aws.ec2.SecurityGroupEgressArgs,
    (KIND_INSTANCE, "root_block_device"): aws.ec2.InstanceRootBlockDeviceArgs,
    (KIND_INSTANCE, "metadata_options"): aws.ec2.InstanceMetadataOptionsArgs,
    (KIND_INSTANCE, "instance_market_options"): aws.ec2.InstanceInstanceMarketOptionsArgs,
    (KIND_INSTANCE, "instance_market_options.spot_options"):
        aws.ec2.InstanceInstanceMarketOptionsSpotOptionsArgs,
    (KIND_AMI, "filters"): aws.ec2.GetAmiFilterArgs,
}

# Blocks that are plain maps of strings, never Args classes.
_MAPS: Final = frozenset({"tags", "default_tags.tags"})

# User data seeds the first boot only (autostop settings included); later changes reach the
# node through the playbooks. Left to the engine, a change would stop and start the instance,
# and a one-time spot instance cannot be stopped at all.
IGNORE_CHANGES: Final[Mapping[str, list[str]]] = {KIND_INSTANCE: ["user_data"]}


class _Declared:
    """The program's view of what it has declared so far, by graph name."""

    def __init__(self) -> None:
        self.resources: dict[str, pulumi.Resource] = {}
        self.lookups: dict[str, pulumi.Output[Any]] = {}

    def output(self, reference: str) -> Any:
        name, _, path = reference.partition(".")
        if name in self.resources:
            return getattr(self.resources[name], path)
        if name in self.lookups:
            return self.lookups[name].apply(lambda result: getattr(result, path))
        raise CloudError(f"the graph refers to {name!r} before declaring it", cloud="aws")


def _resolve(value: Any, declared: _Declared, kind: str, path: str) -> Any:
    """Replace references with Outputs and nested blocks with their Args classes."""
    if isinstance(value, Mapping):
        if set(value) == {"$ref"}:
            return declared.output(value["$ref"])
        if path in _MAPS:
            return {k: _resolve(v, declared, kind, f"{path}.{k}") for k, v in value.items()}
        fields = {k: _resolve(v, declared, kind, f"{path}.{k}" if path else k)
                  for k, v in value.items()}
        args_class = _NESTED.get((kind, path))
        if args_class is None:
            if path:
                raise CloudError(f"{kind}: no argument type known for block {path!r}",
                                 cloud="aws")
            return fields
        return args_class(**fields)
    if isinstance(value, list):
        return [_resolve(item, declared, kind, path) for item in value]
    return value


def _declare(decl: ResourceDecl, declared: _Declared, provider: pulumi.ProviderResource | None,
             keys: Path) -> None:
    args: dict[str, Any] = _resolve(decl.args, declared, decl.kind, "")
    depends = [declared.resources[name] for name in decl.depends_on]
    if decl.kind == KIND_PROVIDER:
        declared.resources[decl.name] = aws.Provider(decl.name, **args)
        return
    if decl.kind == KIND_KEY_FILE:
        declared.resources[decl.name] = LocalKeyPair(
            decl.name,
            LocalKeyPairArgs(cluster=args["cluster"], key_dir=str(keys)),
            pulumi.ResourceOptions(depends_on=depends),
        )
        return
    if decl.kind == KIND_AMI:
        declared.lookups[decl.name] = aws.ec2.get_ami_output(
            **args, opts=pulumi.InvokeOptions(provider=provider)
        )
        return
    constructor = _RESOURCES.get(decl.kind)
    if constructor is None:
        raise CloudError(f"the AWS program cannot declare {decl.kind!r}", cloud="aws")
    # A persistent bucket Styx created outlives the cluster: `down` forgets it, never deletes
    # it (SkyPilot keeps it after `sky down` too).
    retain = decl.kind == KIND_BUCKET and args.get("tags", {}).get(PERSISTENT_TAG) == "true"
    opts = pulumi.ResourceOptions(provider=provider, depends_on=depends,
                                  ignore_changes=IGNORE_CHANGES.get(decl.kind),
                                  retain_on_delete=retain or None)
    declared.resources[decl.name] = constructor(decl.name, **args, opts=opts)


def _node_output(name: str, rank: int, decl: ResourceDecl, instance: pulumi.Resource,
                 state: pulumi.Resource, ports: tuple[str, ...]) -> pulumi.Output[dict[str, Any]]:
    assert isinstance(instance, aws.ec2.Instance)
    assert isinstance(state, aws.ec2transitgateway.InstanceState)
    return pulumi.Output.all(
        name=name,
        rank=rank,
        address=instance.public_ip,
        private_address=instance.private_ip,
        port=SSH_PORT,
        user=decl.args["tags"]["styx:ssh-user"],
        host_public_key="",  # see the module's docstring: read from the console instead
        instance_id=instance.id,
        state=state.state,
        ports=list(ports),
    ).apply(dict)


def _node_resources(graph: ResourceGraph) -> dict[str, Any]:
    """What each node is, for `styx status`: the chosen instance type and what it offers."""
    from styx.clouds.aws._optimizer import Choice

    choice = graph.choice
    if not isinstance(choice, Choice):
        return {}
    offering = choice.offering
    return {
        "instance_type": offering.instance_type,
        "cpus": offering.vcpus,
        "memory_gb": offering.memory_gib,
        "accelerators": offering.gpus_text() if offering.gpu_name else None,
        "use_spot": choice.use_spot,
    }


def build_program(graph: ResourceGraph) -> Callable[[], None]:
    """The inline program for an AWS graph; STYX_HOME is read now, in the planning process."""
    if graph.cloud != "aws":
        raise CloudError(f"not an AWS graph (cloud {graph.cloud!r})", cloud="aws")
    keys = key_dir(graph.cluster)
    instances = {d.args["tags"]["styx:node"]: d for d in graph.resources if d.kind == KIND_INSTANCE}
    key_file = next(d.name for d in graph.resources if d.kind == KIND_KEY_FILE)
    region = next(d.args["region"] for d in graph.resources if d.kind == KIND_PROVIDER)
    trim_sdk_costs()

    def program() -> None:
        declared = _Declared()
        provider: pulumi.ProviderResource | None = None
        for decl in graph.resources:
            _declare(decl, declared, provider, keys)
            if decl.kind == KIND_PROVIDER:
                found = declared.resources[decl.name]
                assert isinstance(found, pulumi.ProviderResource)
                provider = found
        nodes = [
            _node_output(name, rank, instances[name], declared.resources[instances[name].name],
                         declared.resources[f"{instances[name].name}-state"], graph.ports)
            for rank, name in enumerate(graph.nodes)
        ]
        key = declared.resources[key_file]
        assert isinstance(key, LocalKeyPair)
        export_cluster(graph, pulumi.Output.all(*nodes), key.private_key_path,
                       {"region": region, "node_resources": _node_resources(graph)})

    return program
