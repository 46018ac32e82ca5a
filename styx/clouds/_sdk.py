"""What Pulumi's Python SDK costs per resource, trimmed where the answer cannot change.

A 1,000-node plan registers 1,000+ resources in the planning process (issue 17). The SDK
re-derives a resource class's output types for every resource (a throwaway class and a
`get_type_hints` evaluation each time, garbage the collector then walks); the types are a
function of the class alone and only read, so one answer per class is kept.

Tried and measured, not kept: skipping the SDK's per-resource debug messages (about four
blocking `engine.Log` gRPC calls per resource, which the engine drops without `--debug`).
They are 17% of the planning process's samples, yet without them a 1,000-node plan took
34-38 s instead of 16-17 s (CPU 37-41 s instead of 17-18 s): the blocking calls pace the
program's registrations, and unpaced, a thousand concurrent RegisterResource calls contend
on the SDK's thread pool and gRPC channel locks (py-spy: Condition.__enter__ dominates).
"""

from __future__ import annotations

import functools

__all__ = ["trim_sdk_costs"]


def trim_sdk_costs() -> None:
    """Memoize output-type derivation per resource class (idempotent, this process's SDK)."""
    from pulumi import _types

    if not hasattr(_types.resource_types, "cache_info"):
        _types.resource_types = functools.cache(_types.resource_types)
