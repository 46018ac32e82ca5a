"""Choose the cloud for a spec, check the spec against it, and compile its graph (pure)."""

from __future__ import annotations

from dataclasses import replace

from styx.clouds import Cloud, cloud_named
from styx.compile._check import check_fields, locate
from styx.errors import CloudError
from styx.graph import ResourceGraph
from styx.spec import Spec, StackFile, field_issue

__all__ = ["cloud_of", "compile_spec"]


def cloud_of(spec: Spec) -> Cloud:
    """The spec's cloud: the one its resources name, or the embedded local one.

    Without a cloud in `resources` itself, the clouds its candidates name decide; a cluster
    runs on one cloud, so candidates naming several are an error.
    """
    name = spec.resources.cloud
    if name is None:
        named = sorted({c.cloud for c in spec.candidates if c.cloud is not None})
        if len(named) > 1:
            raise CloudError(
                str(field_issue(spec, "resources.cloud",
                                f"the candidates name clouds {', '.join(named)}; a cluster "
                                "runs on one cloud: name it in `resources`")),
                cloud=named[0],
            )
        name = named[0] if named else "local"
    try:
        return cloud_named(name)
    except CloudError as err:
        raise CloudError(str(field_issue(spec, "resources.cloud", str(err))),
                         cloud=name) from err


def compile_spec(spec: Spec, cluster: str, stack: StackFile | None = None) -> ResourceGraph:
    """The spec's resource graph on its cloud: no engine, no credentials, no network.

    The spec is checked against the cloud's field rules first: a refused field is a
    CloudFieldError naming it, file:line:col and the cloud; an ignored one a plan warning.
    """
    cloud = cloud_of(spec)
    warnings = check_fields(spec, cloud, stack)
    try:
        graph = cloud.compile(spec, cluster, stack)
    except CloudError as err:
        raise locate(err, spec, cloud.name, stack) from err
    return replace(graph, warnings=(*warnings, *graph.warnings)) if warnings else graph
