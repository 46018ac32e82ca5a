"""The Cloud base class and its feature check; what the AWS cloud declares."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import ClassVar

import pytest

from styx.clouds._base import Cloud, Feature, requested_features
from styx.clouds.aws import PROVIDER_VERSION, Aws
from styx.errors import CloudError
from styx.spec import Spec


class NoSpotNoStop(Cloud):
    name: ClassVar[str] = "tiny"
    features: ClassVar[frozenset[Feature]] = frozenset(Feature) - {Feature.SPOT, Feature.STOP}


def test_requested_features(task: Callable[[str], Spec]) -> None:
    spec = task("num_nodes: 2\nresources:\n  cloud: aws\n  use_spot: true\n  ports: 80\n"
                "  accelerators: T4:1\n  autostop: 10\n")
    assert requested_features(spec) == {Feature.MULTI_NODE, Feature.SPOT, Feature.PORTS,
                                        Feature.ACCELERATORS, Feature.AUTOSTOP, Feature.STOP}
    down = task("resources:\n  autostop:\n    idle_minutes: 5\n    down: true\n")
    assert requested_features(down) == {Feature.AUTOSTOP}


def test_check_names_every_missing_feature(task: Callable[[str], Spec]) -> None:
    spec = task("resources:\n  use_spot: true\n  autostop: 10\n")
    with pytest.raises(CloudError, match=r"^the tiny cloud does not support: spot, stop$"):
        NoSpotNoStop.check(spec)
    Aws.check(spec)  # AWS does all of it


def test_provider_version_is_the_installed_sdks() -> None:
    assert importlib.metadata.version("pulumi_aws") == PROVIDER_VERSION
    assert PROVIDER_VERSION.count(".") == 2
