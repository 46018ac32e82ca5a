"""The local cloud behind the Cloud interface: its field rules, graph, program and node access."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from styx.clouds._base import Cloud, FieldRule, HostHoldings, Program, Support, images_of
from styx.clouds.local._graph import compile_local
from styx.clouds.local._host import check_file_mounts, outside_home
from styx.clouds.local._paths import LocalClusterPaths
from styx.clouds.local._sweep import find_leftovers, host_clusters, listen_address, sweep_cluster
from styx.errors import NodeError
from styx.graph import ResourceGraph
from styx.home import styx_home

if TYPE_CHECKING:
    from styx.spec import Resources, Spec, StackFile

__all__ = ["Local"]

H, W, R = Support.HONOURED, Support.WARNED, Support.REFUSED


def _image(ami: bool) -> Callable[[Spec, Resources], bool]:
    """Whether a candidate names an AMI (ami=True) or anything else (a docker: image...)."""

    def asks(_spec: Spec, resources: Resources) -> bool:
        return any(image.startswith("ami-") == ami for image in images_of(resources))

    return asks


class Local(Cloud):
    """Each node an sshd on its own loopback address of this host; the host is the catalog."""

    name: ClassVar[str] = "local"
    fetches_buckets_here: ClassVar[bool] = True  # the nodes are this machine
    rules: ClassVar[tuple[FieldRule, ...]] = (
        FieldRule("name", H, "the cluster's name"),
        FieldRule("num_nodes", H, "one sshd per node, up to 1021"),
        FieldRule("workdir", H, "synced to ~/sky_workdir"),
        FieldRule("file_mounts", H, "into the node's home", when="~/… or relative"),
        FieldRule("file_mounts", R, "nodes share this machine's filesystem",
                  when="absolute or climbing out of ~",
                  asks=lambda spec, _r: bool(outside_home([*spec.file_mounts, *spec.storage]))),
        FieldRule("file_mounts", H, "read here through the S3 API (the endpoint in "
                  "AWS_ENDPOINT_URL_S3, or AWS's) and copied into each node's folder at setup",
                  when="an s3:// bucket, COPY"),
        FieldRule("file_mounts", R, "no FUSE mounts of buckets on local nodes yet: use "
                  "`mode: COPY`", when="a bucket, MOUNT or MOUNT_CACHED",
                  asks=lambda spec, _r: any(m.mode != "COPY" for m in spec.storage.values())),
        FieldRule("file_mounts", H, "read when it exists, as SkyPilot reuses an existing "
                  "bucket; the local cloud creates none, so a missing one fails setup in one "
                  "line and `down` deletes none", when="a bucket Styx creates (`name:` alone)"),
        FieldRule("envs", H, "exported to setup and run"),
        FieldRule("secrets", H, "exported, never stored"),
        FieldRule("setup", H, "run by ansible on every node"),
        FieldRule("run", H, "run on every node by `styx exec`"),
        FieldRule("resources.cloud", H, "`local`, or none named"),
        FieldRule("resources.infra", H, "`local` (its region or zone is refused)"),
        FieldRule("resources.region", R, "this host has no regions",
                  asks=lambda _s, r: r.region is not None),
        FieldRule("resources.zone", R, "this host has no zones",
                  asks=lambda _s, r: r.zone is not None),
        FieldRule("resources.instance_type", R, "no instance types: nodes share this host",
                  asks=lambda _s, r: r.instance_type is not None),
        FieldRule("resources.cpus", H, "a node must fit this host's cores; nodes share them"),
        FieldRule("resources.memory", H, "a node must fit this host's memory; nodes share it"),
        FieldRule("resources.accelerators", R, "no accelerators",
                  asks=lambda _s, r: r.accelerator is not None),
        FieldRule("resources.gpus", R, "as accelerators"),
        FieldRule("resources.use_spot", R, "no spot market on this host",
                  asks=lambda _s, r: r.use_spot),
        FieldRule("resources.disk_size", W, "nodes share this host's disk",
                  asks=lambda _s, r: r.disk_size_gb is not None),
        FieldRule("resources.disk_tier", W, "nodes share this host's disk",
                  asks=lambda _s, r: r.disk_tier is not None),
        FieldRule("resources.ports", H,
                  "each node has its own address, so its ports are open there "
                  "(`styx status` lists them)"),
        FieldRule("resources.image_id", R, "nodes run this host's own system",
                  when="ami-…", asks=_image(ami=True)),
        FieldRule("resources.image_id", R, "no container runtime, no image names",
                  when="docker:… or a name", asks=_image(ami=False)),
        FieldRule("resources.labels", W, "local resources carry no labels",
                  asks=lambda _s, r: bool(r.labels)),
        FieldRule("resources.autostop", H,
                  "the head's agent stops every node's processes (folders kept) after the "
                  "idle minutes; with `down`, removes the nodes"),
        FieldRule("resources.any_of", H, "the first entry that fits this host"),
        FieldRule("resources.ordered", H, "the first entry that fits this host"),
        FieldRule("resources.network_tier", W, "nodes share this host's loopback network",
                  asks=lambda _s, r: r.network_tier == "best"),
        FieldRule("resources.job_recovery", W, "managed jobs only; `sky launch` ignores it too"),
        FieldRule("resources.spot_recovery", W, "managed jobs only; `sky launch` ignores it too"),
        FieldRule("config", W, "each key a warning naming it; `aws.labels` become labels"),
        FieldRule("service", W, "read by `sky serve up`; `sky launch` launches the task "
                  "without it, as Styx does"),
        FieldRule("pool", W, "read by `sky jobs pool apply`; `sky launch` launches the task "
                  "without it, as Styx does"),
    )

    def compile(self, spec: Spec, cluster: str, stack: StackFile | None) -> ResourceGraph:
        del stack  # a stack's settings for the local cloud are its cloud and region only
        return compile_local(spec, cluster)

    def program(self, graph: ResourceGraph) -> Program:
        # The program's modules import Pulumi and the providers; compile never needs them.
        from styx.clouds.local._program import build_program

        return build_program(graph)

    def node_outputs(self, outputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """Local nodes export the host key their provider read from the node's own files."""
        nodes = outputs.get("nodes")
        if not isinstance(nodes, list):
            raise NodeError("the stack's outputs list no nodes")
        return list(nodes)

    def check_file_mounts(self, destinations: Iterable[str]) -> None:
        check_file_mounts(destinations)

    def autostop_action(
        self, cluster: str, nodes: Sequence[str], record: Path
    ) -> Mapping[str, Any] | None:
        from styx.clouds.local._autostop import action

        cluster_dir = LocalClusterPaths(styx_home().expanduser().resolve(), cluster).cluster_dir
        return action(cluster_dir, record, nodes)

    def host_leftovers(self, cluster: str) -> HostHoldings:
        found = find_leftovers(styx_home(), cluster)
        return HostHoldings(found.nodes, "" if found.empty else found.describe())

    def sweep_host(self, cluster: str) -> None:
        sweep_cluster(styx_home(), cluster)

    def host_clusters(self) -> tuple[str, ...]:
        return tuple(host_clusters(styx_home()))

    def host_node_address(self, cluster: str, node: str) -> tuple[str, int] | None:
        return listen_address(styx_home(), cluster, node)
