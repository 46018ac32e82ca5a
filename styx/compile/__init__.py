"""Compile a spec into a cloud's resource graph (pure data), then into an inline Pulumi program."""

from __future__ import annotations

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
    "NodeFields",
    "ResourceDecl",
    "ResourceGraph",
    "node_fields",
    "node_name",
    "ref",
    "tree_digest",
]
