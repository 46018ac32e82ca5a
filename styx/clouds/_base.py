"""What every cloud declares about itself: its name and the features it can and cannot offer."""

from __future__ import annotations

import enum
from typing import ClassVar

from styx.errors import CloudError
from styx.spec import Spec

__all__ = ["Cloud", "Feature", "requested_features"]


class Feature(enum.Enum):
    """What a task can ask for that not every cloud can do (after SkyPilot's feature enum)."""

    STOP = "stop"  # a stopped cluster keeps its disks and starts again
    AUTOSTOP = "autostop"
    SPOT = "spot"
    PORTS = "ports"  # open the task's ports to the world
    ACCELERATORS = "accelerators"
    MULTI_NODE = "multi-node"
    CUSTOM_IMAGE = "custom-image"  # image_id
    DISK_TIER = "disk-tier"


def requested_features(spec: Spec) -> frozenset[Feature]:
    """The features a spec needs from whichever cloud runs it."""
    wanted: set[Feature] = set()
    if spec.num_nodes > 1:
        wanted.add(Feature.MULTI_NODE)
    for resources in (spec.resources, *spec.candidates):
        if resources.use_spot:
            wanted.add(Feature.SPOT)
        if resources.ports:
            wanted.add(Feature.PORTS)
        if resources.accelerator is not None:
            wanted.add(Feature.ACCELERATORS)
        if resources.image_id is not None:
            wanted.add(Feature.CUSTOM_IMAGE)
        if resources.disk_tier is not None:
            wanted.add(Feature.DISK_TIER)
        if resources.autostop is not None:
            wanted.add(Feature.AUTOSTOP)
            if not resources.autostop.down:
                wanted.add(Feature.STOP)
    return frozenset(wanted)


class Cloud:
    """A cloud: subclasses set `name` and `features`; `check` refuses what they lack."""

    name: ClassVar[str]
    features: ClassVar[frozenset[Feature]]

    @classmethod
    def unsupported(cls, spec: Spec) -> list[Feature]:
        """What the spec asks for that this cloud cannot do, in a stable order."""
        missing = requested_features(spec) - cls.features
        return sorted(missing, key=lambda f: f.value)

    @classmethod
    def check(cls, spec: Spec) -> None:
        """Raise CloudError naming every unsupported feature the spec asks for."""
        missing = cls.unsupported(spec)
        if missing:
            names = ", ".join(f.value for f in missing)
            raise CloudError(f"the {cls.name} cloud does not support: {names}", cloud=cls.name)
