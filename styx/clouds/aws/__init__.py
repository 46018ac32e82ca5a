"""The AWS cloud: catalog and optimizer, resource graph, pulumi-aws program, catalog refresh.

    compile_aws(spec, cluster, settings) -> ResourceGraph   pure: no engine, no credentials
    build_program(graph) -> program                         declares the graph with pulumi-aws
    choose_for_spec(spec, settings) -> Choice               the optimizer and its candidate table
    refresh_catalog(boto3_clients(url), regions)            specs from EC2, prices from AWS

Nothing here has run against AWS from the machines Styx is built on: the program is tested
under Pulumi's mocks and the refresh against moto's server.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import ClassVar, Final

from styx.clouds._base import Cloud, Feature
from styx.clouds.aws._catalog import (
    Catalog,
    InstanceOffering,
    catalog_path,
    load_catalog,
    parse_catalog,
    shipped_catalog_path,
    user_catalog_path,
)
from styx.clouds.aws._graph import DEFAULT_DISK_GB, choose_for_spec, compile_aws
from styx.clouds.aws._hostkeys import (
    fetch_host_keys,
    host_keys_from_console,
    wait_for_host_keys,
)
from styx.clouds.aws._optimizer import CandidateRow, Choice, choose_instance
from styx.clouds.aws._refresh import (
    DEFAULT_REGIONS,
    RefreshResult,
    boto3_clients,
    refresh_catalog,
)
from styx.clouds.aws._settings import AwsSettings, key_dir
from styx.compile import ResourceGraph

__all__ = [
    "DEFAULT_DISK_GB",
    "DEFAULT_REGIONS",
    "PROVIDER_VERSION",
    "Aws",
    "AwsSettings",
    "CandidateRow",
    "Catalog",
    "Choice",
    "InstanceOffering",
    "RefreshResult",
    "boto3_clients",
    "build_program",
    "catalog_path",
    "choose_for_spec",
    "choose_instance",
    "compile_aws",
    "fetch_host_keys",
    "host_keys_from_console",
    "key_dir",
    "load_catalog",
    "parse_catalog",
    "refresh_catalog",
    "shipped_catalog_path",
    "user_catalog_path",
    "wait_for_host_keys",
]

# The engine needs the provider plugin of the same version as the installed SDK package:
# `pulumi plugin install resource aws <PROVIDER_VERSION>`.
PROVIDER_VERSION: Final = importlib.metadata.version("pulumi_aws")


class Aws(Cloud):
    """AWS through pulumi-aws. Everything a task can ask for, spot instances included."""

    name: ClassVar[str] = "aws"
    features: ClassVar[frozenset[Feature]] = frozenset(Feature)


def build_program(graph: ResourceGraph) -> Callable[[], None]:
    """The inline Pulumi program declaring an AWS graph with pulumi-aws (see `_program`)."""
    # pulumi-aws takes a second to import; compile, catalog and plan rendering never need it.
    from styx.clouds.aws._program import build_program as build

    return build(graph)
