"""What Pulumi's Python SDK costs per resource, trimmed where the answer cannot change.

A 1,000-node plan registers 1,000+ resources in the planning process; two per-resource
costs of the SDK dominate there (issue 17) and neither buys Styx anything:

- it re-derives a resource class's output types for every resource (a throwaway class and a
  `get_type_hints` evaluation each time, garbage the collector then walks);
- it sends about four debug messages per resource to the engine, each a blocking gRPC call
  from the program's event loop, and the engine drops them unless it runs with `--debug`,
  which Styx asks for only under STYX_DEBUG.
"""

from __future__ import annotations

import functools
import os
from typing import Any

__all__ = ["trim_sdk_costs"]


def _debugging() -> bool:
    return os.environ.get("STYX_DEBUG", "") not in ("", "0", "false")


def _drop_debug_message(*_args: Any, **_kwargs: Any) -> None:
    """pulumi.log.debug's stand-in: the message would be dropped by the engine anyway."""


def trim_sdk_costs() -> None:
    """Memoize output-type derivation per class; skip debug messages unless STYX_DEBUG.

    Idempotent; applies to the SDK in this process (the program runs in the planning one).
    """
    from pulumi import _types, log

    if not hasattr(_types.resource_types, "cache_info"):
        # The types are a function of the class alone and only read: one answer per class.
        _types.resource_types = functools.cache(_types.resource_types)
    if not _debugging():
        log.debug = _drop_debug_message  # the SDK calls it as log.debug(...), late-bound
