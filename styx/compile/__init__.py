"""Compile a spec into its cloud's resource graph (pure data), checked against that cloud.

    compile_spec(spec, cluster, stack) -> ResourceGraph   pure: no engine, no credentials
    cloud_of(spec) -> Cloud                               the registered cloud that runs it
    program_for(graph) -> Program                         the Pulumi program (loads Pulumi)

Importing this package loads neither Pulumi nor ansible: clouds load their programs only
when `program_for` asks for one.
"""

from __future__ import annotations

from styx.clouds import CLOUD_NAMES, Program, cloud_named
from styx.compile._check import check_fields
from styx.compile._dispatch import cloud_of, compile_spec
from styx.graph import (
    CatalogChoice,
    NodeFields,
    ResourceDecl,
    ResourceGraph,
    node_fields,
    node_name,
    ref,
)

__all__ = [
    "CLOUD_NAMES",
    "CatalogChoice",
    "NodeFields",
    "Program",
    "ResourceDecl",
    "ResourceGraph",
    "check_fields",
    "cloud_of",
    "compile_spec",
    "node_fields",
    "node_name",
    "program_for",
    "ref",
]


def program_for(graph: ResourceGraph) -> Program:
    """The inline Pulumi program that declares exactly `graph` when the engine runs it."""
    return cloud_named(graph.cloud).program(graph)
