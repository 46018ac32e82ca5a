"""A floor for plans: preview N plain dynamic-provider resources, as a whole process.

    python bench/_floor.py N [--shaped]     (STYX_HOME and PATH set as for styx)

Each resource carries one small input and a no-op provider: what the engine and the
Automation API cost for N dynamic resources before any of Styx's work. --shaped gives each
the shape of a local node instead (ten strings, two nulls, an address and a key computed from
another resource's output, and a depends_on on it): what those inputs alone cost the SDK and
the engine, to tell the price of the node's shape from the price of Styx's own work.
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
    def __init__(self, name: str, index: int, extra: dict[str, object] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:  # fmt: skip
        super().__init__(_Noop(), name, {"index": index, **(extra or {})}, opts)


def _shaped(parent: Plain, index: int) -> dict[str, object]:
    extra: dict[str, object] = {f"field{k}": f"value-{k}-{index}" for k in range(10)}
    extra.update(cpus=None, memory_gb=None, key=parent.id,
                 address=parent.id.apply(lambda _id: f"127.0.0.{index % 250}"))
    return extra


def main() -> None:
    nodes = int(sys.argv[1])
    shaped = "--shaped" in sys.argv[2:]
    # By its module name, not __main__'s: the provider is then pickled by reference, as
    # Styx's are. By value, the SDK's sorted-dict pickler (re-wrapped on every resource)
    # overflows the stack after about 300 resources.
    from _floor import Plain

    def program() -> None:
        if not shaped:
            for index in range(nodes):
                Plain(f"plain{index}", index)
        else:
            parent = Plain("parent", -1)
            after = pulumi.ResourceOptions(depends_on=[parent])
            for index in range(nodes):
                Plain(f"plain{index}", index, _shaped(parent, index), after)
        pulumi.export("count", nodes)

    stack = f"n{nodes}{'-shaped' if shaped else ''}"
    open_stack(StackRef("bench-floor", stack), program).preview()


if __name__ == "__main__":
    main()
