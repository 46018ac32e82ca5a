"""The AWS cloud: catalog and optimizer, resource graph, pulumi-aws program, catalog refresh.

    CLOUD                                                   the Aws cloud the table hands out
    compile_aws(spec, cluster, settings) -> ResourceGraph   pure: no engine, no credentials
    build_program(graph) -> program                         declares the graph with pulumi-aws
    choose_for_spec(spec, settings) -> Choice               the optimizer and its candidate table
    refresh_catalog(boto3_clients(url), regions)            specs from EC2, prices from AWS

Nothing here has run against AWS from the machines Styx is built on: the program is tested
under Pulumi's mocks and the refresh against moto's server.
"""

from __future__ import annotations

import importlib.metadata
from typing import Final

from styx.clouds.aws._catalog import (
    Catalog,
    InstanceOffering,
    catalog_path,
    load_catalog,
    parse_catalog,
    shipped_catalog_path,
    user_catalog_path,
)
from styx.clouds.aws._cloud import Aws, build_program
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

__all__ = [
    "CLOUD",
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

CLOUD = Aws()
