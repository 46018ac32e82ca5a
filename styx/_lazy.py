"""Package exports loaded on first use, so a command imports only the modules it runs.

`styx validate` and `styx compile` must not pay for Pulumi, its gRPC stack and ansible-runner
(issue 17): a package's `__init__` names each export's module, and the module is imported
when the name is first read. Type checkers see the same names through `TYPE_CHECKING` imports.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, modules: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for `package`, given {module: names it exports}."""
    owner = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = owner.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        # Cached on the package: the next read is a plain attribute, not this hook.
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*owner, *vars(sys.modules[package])})

    return __getattr__, __dir__
