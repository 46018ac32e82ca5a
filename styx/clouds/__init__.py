"""Clouds: one interface (Cloud), and the one table of the clouds Styx can run on.

    cloud_named("local") -> Cloud     the registered cloud; its package loads on first use
    CLOUD_NAMES                       every registered name, the default first

A cloud's package is imported only when asked for: the local cloud's Pulumi providers run
in the engine's plugin process, which imports this package and should not pay for AWS's.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Final

from styx.clouds._base import Cloud, FieldRule, Program, Support, candidates_on
from styx.errors import CloudError

__all__ = [
    "CLOUD_NAMES",
    "Cloud",
    "FieldRule",
    "Program",
    "Support",
    "candidates_on",
    "cloud_named",
]

# The table: a cloud's name and the package that provides its `CLOUD`.
_REGISTRY: Final[Mapping[str, str]] = {
    "local": "styx.clouds.local",
    "aws": "styx.clouds.aws",
}
CLOUD_NAMES: Final = tuple(_REGISTRY)


def cloud_named(name: str) -> Cloud:
    """The cloud registered as `name`; CloudError naming the others when there is none."""
    package = _REGISTRY.get(name)
    if package is None:
        raise CloudError(
            f"cloud {name!r} is not supported; Styx runs on {', '.join(CLOUD_NAMES)}", cloud=name
        )
    cloud = importlib.import_module(package).CLOUD
    if not isinstance(cloud, Cloud) or cloud.name != name:
        raise TypeError(f"{package}.CLOUD is not the Cloud {name!r}")
    return cloud
