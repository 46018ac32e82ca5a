"""Pick the cloud for a target: its resource graph, and the inline program that declares it."""

from __future__ import annotations

from collections.abc import Callable

from styx.compile import ResourceGraph
from styx.compile._local import compile_local
from styx.errors import CloudError
from styx.workflow._target import Target

__all__ = ["Program", "compile_target", "program_for"]

Program = Callable[[], None]

_CLOUDS = ("local", "aws")


def cloud_of(target: Target) -> str:
    cloud = (target.spec.resources.cloud or "local").lower()
    if cloud not in _CLOUDS:
        raise CloudError(
            f"{target.spec.source}: cloud {cloud!r} is not supported; Styx runs on "
            f"{', '.join(_CLOUDS)}",
            cloud=cloud,
        )
    return cloud


def compile_target(target: Target) -> ResourceGraph:
    """The target's resource graph (pure: no engine, no credentials)."""
    cloud = cloud_of(target)
    if cloud == "aws":
        from styx.clouds.aws import AwsSettings, compile_aws

        return compile_aws(target.spec, target.cluster, AwsSettings.from_stack(target.stack_file))
    return compile_local(target.spec, target.cluster)


def program_for(graph: ResourceGraph) -> Program:
    """The inline Pulumi program that declares `graph` when the engine runs it."""
    if graph.cloud == "aws":
        from styx.clouds.aws import build_program as build_aws

        return build_aws(graph)
    from styx.compile._local_program import build_local_program

    return build_local_program(graph)
