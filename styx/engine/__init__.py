"""The engine boundary: Pulumi's `pulumi` command and the Automation API that drives it."""

from __future__ import annotations

from styx.engine._install import (
    DYNAMIC_PROVIDER_SHIM,
    Engine,
    engine_bin_dir,
    find_engine,
    install_engine,
    sdk_version,
)
from styx.engine._ops import EngineUpdate, EventSink, PreviewOutcome, StackOps
from styx.engine._workspace import (
    StackListing,
    StackRef,
    default_backend_url,
    ensure_passphrase_file,
    file_backend_stacks,
    list_stacks,
    open_stack,
)

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
    "file_backend_stacks",
    "find_engine",
    "install_engine",
    "list_stacks",
    "open_stack",
    "sdk_version",
]
