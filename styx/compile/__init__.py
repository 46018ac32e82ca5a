"""Compile a spec into a cloud's resource graph (pure data), then into an inline Pulumi program."""

from __future__ import annotations

from styx.compile._dispatch import CLOUDS, Program, cloud_of, compile_spec, program_for
from styx.compile._graph import (
    NodeFields,
    ResourceDecl,
    ResourceGraph,
    node_fields,
    node_name,
    ref,
    tree_digest,
)

__all__ = [
    "CLOUDS",
    "NodeFields",
    "Program",
    "ResourceDecl",
    "ResourceGraph",
    "cloud_of",
    "compile_spec",
    "node_fields",
    "node_name",
    "program_for",
    "ref",
    "tree_digest",
]
