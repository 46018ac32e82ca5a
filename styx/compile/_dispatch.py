"""Choose the cloud for a spec: its resource graph (pure), and the program that declares it."""

from __future__ import annotations

from collections.abc import Callable

from styx.compile._graph import ResourceGraph
from styx.compile._local import compile_local
from styx.errors import CloudError
from styx.spec import Spec, StackFile

__all__ = ["CLOUDS", "Program", "cloud_of", "compile_spec", "program_for"]

Program = Callable[[], None]

CLOUDS = ("local", "aws")


def cloud_of(spec: Spec) -> str:
    """The spec's cloud; no cloud named means the embedded local one."""
    cloud = (spec.resources.cloud or "local").lower()
    if cloud not in CLOUDS:
        raise CloudError(
            f"{spec.source}: cloud {cloud!r} is not supported; Styx runs on {', '.join(CLOUDS)}",
            cloud=cloud,
        )
    return cloud


def compile_spec(spec: Spec, cluster: str, stack: StackFile | None = None) -> ResourceGraph:
    """The spec's resource graph on its cloud: no engine, no credentials, no network."""
    if cloud_of(spec) == "aws":
        from styx.clouds.aws import AwsSettings, compile_aws

        return compile_aws(spec, cluster, AwsSettings.from_stack(stack))
    return compile_local(spec, cluster)


def program_for(graph: ResourceGraph) -> Program:
    """The inline Pulumi program that declares `graph` when the engine runs it."""
    if graph.cloud == "aws":
        from styx.clouds.aws import build_program as build_aws

        return build_aws(graph)
    from styx.compile._local_program import build_local_program

    return build_local_program(graph)
