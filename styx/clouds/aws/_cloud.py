"""The AWS cloud behind the Cloud interface: its field rules, graph, program and node access."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from styx.clouds._base import Cloud, FieldRule, Program, Support, images_of
from styx.clouds.aws._graph import choose_for_spec, compile_aws
from styx.clouds.aws._hostkeys import wait_for_host_keys
from styx.clouds.aws._settings import AwsSettings
from styx.errors import NodeError
from styx.graph import ResourceGraph

if TYPE_CHECKING:
    from styx.spec import Resources, Spec, StackFile

__all__ = ["Aws", "build_program"]

H, W, R = Support.HONOURED, Support.WARNED, Support.REFUSED


def _not_an_ami(_spec: Spec, resources: Resources) -> bool:
    return any(not image.startswith("ami-") for image in images_of(resources))


def build_program(graph: ResourceGraph) -> Program:
    """The inline Pulumi program declaring an AWS graph with pulumi-aws (see `_program`)."""
    # pulumi-aws takes a second to import; compile, catalog and plan rendering never need it.
    from styx.clouds.aws._program import build_program as build

    return build(graph)


class Aws(Cloud):
    """AWS through pulumi-aws: the cheapest fitting instance type from the shipped catalog."""

    name: ClassVar[str] = "aws"
    rules: ClassVar[tuple[FieldRule, ...]] = (
        FieldRule("name", H, "the cluster's name, on every resource's tags"),
        FieldRule("num_nodes", H, "one instance per node, in a cluster placement group "
                                  "when the type allows"),
        FieldRule("workdir", H, "synced to ~/sky_workdir"),
        FieldRule("file_mounts", H, "into the SSH user's home", when="~/… or relative"),
        FieldRule("file_mounts", H, "where the SSH user may write",
                  when="absolute or climbing out of ~"),
        FieldRule("file_mounts", H, "`aws s3 sync` on each node at setup, through the nodes' "
                  "instance profile (as SkyPilot's COPY)", when="an s3:// bucket, COPY"),
        FieldRule("file_mounts", H, "`rclone mount` (FUSE) on each node at setup; MOUNT_CACHED "
                  "with rclone's full VFS cache", when="a bucket, MOUNT or MOUNT_CACHED"),
        FieldRule("file_mounts", H, "an S3 bucket in the plan, kept by `down` unless "
                  "`persistent: false`", when="a bucket Styx creates (`name:` alone)"),
        FieldRule("envs", H, "exported to setup and run"),
        FieldRule("secrets", H, "exported, never stored"),
        FieldRule("setup", H, "run by ansible on every node"),
        FieldRule("run", H, "run on every node by `styx exec`"),
        FieldRule("resources.cloud", H, "`aws`"),
        FieldRule("resources.infra", H, "`aws/REGION[/ZONE]`"),
        FieldRule("resources.region", H, "the provider's region; the optimizer looks there"),
        FieldRule("resources.zone", H, "the subnet's availability zone"),
        FieldRule("resources.instance_type", H, "must be in the catalog"),
        FieldRule("resources.cpus", H, "the optimizer's minimum (or exact) vCPUs"),
        FieldRule("resources.memory", H, "the optimizer's minimum (or exact) GiB"),
        FieldRule("resources.accelerators", H, "GPU instance types; a GPU-ready image"),
        FieldRule("resources.gpus", H, "as accelerators"),
        FieldRule("resources.use_spot", H, "one-time spot instances"),
        FieldRule("resources.disk_size", H, "the root volume's size"),
        FieldRule("resources.disk_tier", H, "the root volume's type and IOPS"),
        FieldRule("resources.ports", H, "opened to the world in the security group"),
        FieldRule("resources.image_id", H, "the AMI, or one per region", when="ami-…"),
        FieldRule("resources.image_id", R, "Styx boots AMIs: it neither runs docker images "
                  "nor resolves image names", when="docker:… or a name", asks=_not_an_ami),
        FieldRule("resources.labels", H, "tags on every resource"),
        FieldRule("resources.autostop", H,
                  "the head's agent runs `shutdown -h now` on every node; the instances' "
                  "shutdown behaviour (stop, or terminate with `down` or spot) does the rest"),
        FieldRule("resources.any_of", H, "the cheapest fitting entry"),
        FieldRule("resources.ordered", H, "the first entry that fits"),
        FieldRule("resources.network_tier", H, "`best`: EFA-capable types in a cluster "
                  "placement group (EFA interfaces not attached yet: a plan warning says so)"),
        FieldRule("resources.job_recovery", W, "managed jobs only; `sky launch` ignores it too"),
        FieldRule("resources.spot_recovery", W, "managed jobs only; `sky launch` ignores it too"),
        FieldRule("config", H, "`aws.labels` as tags; every other key a warning naming it"),
        FieldRule("service", W, "read by `sky serve up`; `sky launch` launches the task "
                  "without it, as Styx does"),
        FieldRule("pool", W, "read by `sky jobs pool apply`; `sky launch` launches the task "
                  "without it, as Styx does"),
    )

    def compile(self, spec: Spec, cluster: str, stack: StackFile | None) -> ResourceGraph:
        settings = AwsSettings.from_stack(stack)
        return compile_aws(spec, cluster, settings, choose_for_spec(spec, settings))

    def program(self, graph: ResourceGraph) -> Program:
        return build_program(graph)

    def autostop_action(
        self, cluster: str, nodes: Sequence[str], record: Path
    ) -> Mapping[str, Any] | None:
        """Power the nodes off: EC2 stops or terminates them as their shutdown behaviour says.

        The head powers off its workers first (the agent's `poweroff` subcommand reaches them
        with the cluster key), then itself. Nothing is recorded on this machine: a refresh
        reads the instances' state from EC2.
        """
        del cluster, record
        del nodes
        return {"argv": ["{python}", "{agent}", "poweroff"], "details": False}

    def node_outputs(self, outputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """Nodes with the host key each instance printed on its console (an authenticated EC2
        call), never trusted on first use, so host key checking stays on."""
        nodes = outputs.get("nodes")
        if not isinstance(nodes, list):
            raise NodeError("the stack's outputs list no nodes")
        region = str(outputs.get("region"))
        filled: list[Mapping[str, Any]] = []
        for node in nodes:
            if not node.get("host_public_key") and node.get("instance_id"):
                keys = wait_for_host_keys(str(node["instance_id"]), region)
                chosen = next((k for k in keys if k.startswith("ssh-ed25519")), keys[0])
                node = {**node, "host_public_key": chosen}
            filled.append(node)
        return filled
