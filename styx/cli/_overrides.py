"""The resource flags every task command takes (--cloud, --infra, --gpus, ...), as SkyPilot's."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from styx.clouds.overrides import ResourceOverrides

__all__ = ["resource_override_options"]

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = (
    click.option("--cloud", "override_cloud", metavar="CLOUD",
                 help="Run on this cloud (local or aws), whatever the task says."),
    click.option("--infra", "override_infra", metavar="CLOUD[/REGION[/ZONE]]",
                 help="Cloud, region and zone at once, e.g. aws/us-east-1."),
    click.option("--gpus", "override_gpus", metavar="NAME[:COUNT]",
                 help="Accelerators per node, e.g. V100:8 or '{A10G:1, L4:1}'."),
    click.option("--cpus", "override_cpus", metavar="N[+]",
                 help="vCPUs per node: exactly N, or N+ for at least N."),
    click.option("--memory", "override_memory", metavar="GIB[+]",
                 help="Memory per node in GiB: exactly, or at least with +."),
    click.option("--instance-type", "override_instance_type", metavar="TYPE",
                 help="A cloud instance type, e.g. m6i.xlarge."),
    click.option("--num-nodes", "override_num_nodes", type=click.IntRange(min=1),
                 help="Number of nodes."),
    click.option("--use-spot/--no-use-spot", "override_use_spot", default=None,
                 help="Use (or do not use) spot instances."),
)


def resource_override_options(func: F) -> F:
    """Add the flags, and hand the command one `overrides: ResourceOverrides` instead."""

    @functools.wraps(func)
    def wrapper(*args: Any, **options: Any) -> Any:
        overrides = ResourceOverrides(
            cloud=options.pop("override_cloud"),
            infra=options.pop("override_infra"),
            gpus=options.pop("override_gpus"),
            cpus=options.pop("override_cpus"),
            memory=options.pop("override_memory"),
            instance_type=options.pop("override_instance_type"),
            num_nodes=options.pop("override_num_nodes"),
            use_spot=options.pop("override_use_spot"),
        )
        return func(*args, overrides=overrides, **options)

    decorated: Any = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]
