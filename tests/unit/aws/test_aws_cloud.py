"""The AWS cloud as the table hands it out, and the provider version its program needs."""

from __future__ import annotations

import importlib.metadata

import pytest

from styx.clouds import CLOUD_NAMES, Cloud, cloud_named
from styx.clouds.aws import CLOUD, PROVIDER_VERSION, Aws
from styx.errors import CloudError


def test_the_table_hands_out_each_clouds_own_instance() -> None:
    assert CLOUD_NAMES == ("local", "aws")
    assert cloud_named("aws") is CLOUD and isinstance(CLOUD, Aws)
    for name in CLOUD_NAMES:
        cloud = cloud_named(name)
        assert isinstance(cloud, Cloud) and cloud.name == name
    with pytest.raises(CloudError, match="cloud 'gcp' is not supported; Styx runs on local, aws"):
        cloud_named("gcp")


def test_provider_version_is_the_installed_sdks() -> None:
    assert importlib.metadata.version("pulumi_aws") == PROVIDER_VERSION
    assert PROVIDER_VERSION.count(".") == 2
