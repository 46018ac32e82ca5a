"""A floor for plans: preview N plain dynamic-provider resources, as a whole process.

    python bench/_floor.py N          (STYX_HOME and PATH set as for styx)

Each resource carries one small input and a no-op provider: what the engine and the
Automation API cost for N dynamic resources before any of Styx's work.
"""

from __future__ import annotations

import sys

import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider

from styx.engine import StackRef, open_stack


class _Noop(ResourceProvider):
    def create(self, props: dict[str, object]) -> CreateResult:
        return CreateResult(id_=str(props["index"]), outs=props)


class Plain(Resource):
    def __init__(self, name: str, index: int) -> None:
        super().__init__(_Noop(), name, {"index": index})


def main() -> None:
    nodes = int(sys.argv[1])
    # By its module name, not __main__'s: the provider is then pickled by reference, as
    # Styx's are. By value, the SDK's sorted-dict pickler (re-wrapped on every resource)
    # overflows the stack after about 300 resources.
    from _floor import Plain

    def program() -> None:
        for index in range(nodes):
            Plain(f"plain{index}", index)
        pulumi.export("count", nodes)

    open_stack(StackRef("bench-floor", f"n{nodes}"), program).preview()


if __name__ == "__main__":
    main()
