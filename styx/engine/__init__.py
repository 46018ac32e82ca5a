"""The engine boundary: Pulumi's `pulumi` command and the Automation API that drives it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from styx._lazy import lazy_exports

if TYPE_CHECKING:
    from styx.engine._checkpoint import recorded_outputs
    from styx.engine._install import (
        DYNAMIC_PROVIDER_SHIM,
        Engine,
        engine_bin_dir,
        find_engine,
        install_engine,
        sdk_version,
    )
    from styx.engine._ops import EngineUpdate, EventSink, PreviewOutcome, StackOps
    from styx.engine._refs import (
        StackListing,
        StackRef,
        default_backend_url,
        file_backend_is_empty,
        file_backend_stacks,
    )
    from styx.engine._workspace import ensure_passphrase_file, list_stacks, open_stack

__all__ = [
    "DYNAMIC_PROVIDER_SHIM",
    "Engine",
    "EngineUpdate",
    "EventSink",
    "PreviewOutcome",
    "StackListing",
    "StackOps",
    "StackRef",
    "default_backend_url",
    "engine_bin_dir",
    "ensure_passphrase_file",
    "file_backend_is_empty",
    "file_backend_stacks",
    "find_engine",
    "install_engine",
    "list_stacks",
    "open_stack",
    "recorded_outputs",
    "sdk_version",
]

# Each name is imported from its module when first read (styx._lazy): naming a stack
# must not load Pulumi's SDK.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "styx.engine._checkpoint": ("recorded_outputs",),
        "styx.engine._install": (
            "DYNAMIC_PROVIDER_SHIM", "Engine", "engine_bin_dir", "find_engine", "install_engine",
            "sdk_version",
        ),
        "styx.engine._ops": ("EventSink", "PreviewOutcome", "StackOps", "EngineUpdate"),
        "styx.engine._refs": (
            "StackListing", "StackRef", "default_backend_url", "file_backend_is_empty",
            "file_backend_stacks",
        ),
        "styx.engine._workspace": (
            "ensure_passphrase_file", "list_stacks", "open_stack",
        ),
    },
)
