"""A target's resource graph and program: styx.compile applied to the target's spec and stack."""

from __future__ import annotations

from styx.compile import Program, ResourceGraph, compile_spec, program_for
from styx.workflow._target import Target

__all__ = ["Program", "compile_target", "program_for"]


def compile_target(target: Target) -> ResourceGraph:
    """The target's resource graph (pure: no engine, no credentials), nodes in its state."""
    graph = compile_spec(target.spec, target.cluster, target.stack_file)
    return graph.with_node_state(target.node_state)
