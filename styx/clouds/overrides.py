"""Command-line resource overrides (--cloud, --infra, --gpus, ...) applied to a loaded Spec.

As in SkyPilot, a flag wins over the task file and applies to every candidate of any_of /
ordered. Values are parsed exactly as the task file's own fields are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from styx.errors import SpecError, SpecIssue
from styx.spec import (
    FrozenMap,
    Place,
    Resources,
    Spec,
    parse_accelerators,
    parse_cloud,
    parse_cpus,
    parse_infra,
    parse_memory,
)

__all__ = ["ResourceOverrides", "apply_overrides"]

T = TypeVar("T")


@dataclass(frozen=True)
class ResourceOverrides:
    """Flags as typed on the command line; None means "not given"."""

    cloud: str | None = None  # --cloud aws
    infra: str | None = None  # --infra aws/us-east-1[/us-east-1a]
    gpus: str | None = None  # --gpus V100:2  (also "{A10G:1, L4:1}" or "[...]")
    cpus: str | None = None  # --cpus 4+
    memory: str | None = None  # --memory 16+
    instance_type: str | None = None  # --instance-type m6i.large
    num_nodes: int | None = None  # --num-nodes 2
    use_spot: bool | None = None  # --use-spot / --no-use-spot

    @property
    def empty(self) -> bool:
        return self == ResourceOverrides()


def _parsed(flag: str, value: str | None, parser: Callable[[Any], T],
            issues: list[SpecIssue]) -> T | None:
    if value is None:
        return None
    try:
        return parser(value)
    except ValueError as err:
        issues.append(SpecIssue(flag, None, None, None, str(err)))
        return None


def _location(resources: Resources, cloud: str | None, region: str | None,
              zone: str | None, whole: bool) -> Resources:
    if whole:  # --infra names the whole location: what it leaves out becomes "any"
        return replace(resources, cloud=cloud, region=region, zone=zone)
    if cloud is not None and cloud != resources.cloud:
        # Another cloud's region and zone mean nothing here.
        return replace(resources, cloud=cloud, region=None, zone=None)
    return resources


def apply_overrides(spec: Spec, overrides: ResourceOverrides) -> Spec:
    """The spec with the flags applied to its resources and every candidate.

    Raises SpecError (located at the flag) when a value does not parse or flags clash.
    """
    if overrides.empty:
        return spec
    issues: list[SpecIssue] = []
    if overrides.cloud is not None and overrides.infra is not None:
        issues.append(SpecIssue("--infra", None, None, None, "give either --cloud or --infra"))
    if overrides.num_nodes is not None and overrides.num_nodes < 1:
        issues.append(SpecIssue("--num-nodes", None, None, None,
                                f"must be at least 1, got {overrides.num_nodes}"))
    cloud = _parsed("--cloud", overrides.cloud, parse_cloud, issues)
    infra = _parsed("--infra", overrides.infra, parse_infra, issues)
    gpus = _parsed("--gpus", overrides.gpus, parse_accelerators, issues)
    cpus = _parsed("--cpus", overrides.cpus, parse_cpus, issues)
    memory = _parsed("--memory", overrides.memory, parse_memory, issues)
    if issues:
        raise SpecError(issues)

    def one(resources: Resources) -> Resources:
        if infra is not None:
            resources = _location(resources, *infra, whole=True)
        elif cloud is not None:
            resources = _location(resources, cloud, None, None, whole=False)
        if cpus is not None:
            resources = replace(resources, cpus=cpus)
        if memory is not None:
            resources = replace(resources, memory=memory)
        if overrides.instance_type is not None:
            resources = replace(resources, instance_type=overrides.instance_type)
        if overrides.use_spot is not None:
            resources = replace(resources, use_spot=overrides.use_spot)
        return resources

    base = one(spec.resources)
    candidates = [one(c) for c in (spec.candidates or (spec.resources,))]
    ordered = spec.candidates_ordered
    if gpus is not None:
        choices, gpus_ordered = gpus
        base = replace(base, accelerator=choices[0])
        candidates = [replace(c, accelerator=a) for c in candidates for a in choices]
        ordered = gpus_ordered if len(choices) > 1 else ordered
    unique = tuple(dict.fromkeys(candidates))
    return replace(
        spec,
        num_nodes=overrides.num_nodes if overrides.num_nodes is not None else spec.num_nodes,
        resources=base,
        candidates=unique,
        candidates_ordered=ordered and len(unique) > 1,
        places=FrozenMap({**spec.places, **_flag_places(overrides)}),
    )


def _flag_places(overrides: ResourceOverrides) -> dict[str, Place]:
    """The fields the flags set, each placed at its flag: later errors name the flag."""
    given = {
        "--cloud": (overrides.cloud, ("cloud",)),
        "--infra": (overrides.infra, ("cloud", "region", "zone")),
        "--gpus": (overrides.gpus, ("accelerators",)),
        "--cpus": (overrides.cpus, ("cpus",)),
        "--memory": (overrides.memory, ("memory",)),
        "--instance-type": (overrides.instance_type, ("instance_type",)),
        "--use-spot": (overrides.use_spot, ("use_spot",)),
    }
    places = {f"resources.{name}": Place(flag)
              for flag, (value, names) in given.items() if value is not None for name in names}
    if overrides.num_nodes is not None:
        places["num_nodes"] = Place("--num-nodes")
    return places
