"""What Pulumi's Python SDK costs per resource, trimmed where the answer cannot change.

A 1,000-node plan registers 1,000+ resources in the planning process (issue 17). Two SDK
functions make garbage that only the cycle collector can free, on every resource:
- it re-derives a resource class's output types for every resource (a throwaway class and a
  `get_type_hints` evaluation each time); the types are a function of the class alone and
  only read, so one answer per class is kept;
- `contains_unknowns`, asked of every Output's value, defines a recursive inner function per
  call (function -> closure cell -> function, plus its `set[int]` annotation): about 20,000
  such cycles in a 1,000-node plan. The same question is answered here by a loop, which
  leaves no cycle behind. The collector's pacing during the operation is the engine's
  (styx/engine/_collector.py).

And one cost per property: for every property of a resource the SDK makes an Output
attribute (four futures, a resolver, an Output), whether or not the program ever reads it.
Measured on 1,000 dynamic resources with twelve string inputs each: 11.7 s against 7.8 s
with one input, and 9.4 s when those twelve get no Output attribute (same inputs to the
engine, same state). A resource class may therefore name the outputs it is read by
(`READ_BACK`); its other properties still go to the engine as inputs and come back in its
state, they only get no attribute in this process.

The end of a program (waiting out its registrations and Outputs) is styx/clouds/_sdk_wait.py.

Last, the SDK records where in the program each resource was declared: a walk of the whole
call stack per resource (8% of the planning process's busy time at 1,000 nodes), kept in the
state as about thirty frames of file URIs each. For Styx's generated program that is the
same frames of Styx's own installation for every node: nothing a user can act on, paths of
one machine in a team's shared state, and half of a node's bytes in the checkpoint (2.2 of
4.5 KB). Styx's programs record no source position.

Tried and measured, not kept: skipping the SDK's per-resource debug messages (about four
blocking `engine.Log` gRPC calls per resource, which the engine drops without `--debug`).
They are 17% of the planning process's samples, yet without them a 1,000-node plan took
34-38 s instead of 16-17 s (CPU 37-41 s instead of 17-18 s): the blocking calls pace the
program's registrations, and unpaced, a thousand concurrent RegisterResource calls contend
on the SDK's thread pool and gRPC channel locks (py-spy: Condition.__enter__ dominates).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["contains_unknowns", "read_back_only", "trim_sdk_costs"]


def contains_unknowns(val: Any) -> bool:
    """Whether `val`, or anything in its dicts and lists, is the SDK's Unknown.

    The SDK's own answer, walked with a stack instead of a recursive closure; a container
    seen before (by identity) is not walked again, as in the SDK.
    """
    from pulumi.runtime.known_types import is_unknown

    seen: set[int] = set()
    pending = [val]
    while pending:
        item = pending.pop()
        if is_unknown(item):
            return True
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _no_source_position() -> Any:
    """An empty stack trace for the engine: no frames, so no source position either."""
    from pulumi.runtime.proto import source_pb2

    return source_pb2.StackTrace()


def read_back_only(transfer: Callable[..., Any]) -> Callable[..., Any]:
    """The SDK's `transfer_properties`, making Output attributes only for a resource class's
    `READ_BACK` names when it declares them (every property otherwise, as the SDK does)."""
    if getattr(transfer, "read_back_only", False):
        return transfer

    @functools.wraps(transfer)
    def transfer_read_back(res: Any, props: Mapping[str, Any], custom: bool) -> Any:
        wanted: frozenset[str] | None = getattr(type(res), "READ_BACK", None)
        if wanted is not None:
            props = {name: value for name, value in props.items() if name in wanted}
        return transfer(res, props, custom)

    transfer_read_back.read_back_only = True  # type: ignore[attr-defined]
    return transfer_read_back


def trim_sdk_costs() -> None:
    """Memoize output-type derivation per resource class, answer `contains_unknowns` without
    cycles, honour `READ_BACK`, record no source positions (idempotent; this process's SDK,
    as the module docstring says why). The SDK looks each of these up in its module at each
    use, so replacing the module's attribute covers every caller."""
    from pulumi import _types
    from pulumi.runtime import resource as sdk_resource
    from pulumi.runtime import rpc
    from pulumi.runtime import stack as sdk_stack

    from styx.clouds import _sdk_wait

    if not hasattr(_types.resource_types, "cache_info"):
        _types.resource_types = functools.cache(_types.resource_types)
    rpc.contains_unknowns = contains_unknowns
    rpc.transfer_properties = read_back_only(rpc.transfer_properties)
    sdk_resource._get_stack_trace = _no_source_position
    # The end of a program: waited out in one round rather than one per finished batch.
    sdk_stack.wait_for_rpcs = _sdk_wait.wait_for_rpcs
