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

__all__ = [
    "DYNAMIC_PROVIDER_SHIM",
    "Engine",
    "engine_bin_dir",
    "find_engine",
    "install_engine",
    "sdk_version",
]
