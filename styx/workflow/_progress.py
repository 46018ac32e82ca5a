"""Progress: what long operations report as they go, and engine events turned into lines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from styx.nodes import ProgressEvent
from styx.plan import display_type

if TYPE_CHECKING:
    # Types only: exec reports progress too, and must not import the Automation API.
    from pulumi.automation import EngineEvent

__all__ = ["EngineProgress", "Reporter", "SetupProgress", "silent"]


@dataclass(frozen=True)
class Reporter:
    """Callbacks a caller passes in; the library never prints by itself.

    `info` gets progress lines (engine steps, playbook tasks per node); `output` gets a job's
    output lines with the node they came from.
    """

    info: Callable[[str], None] = lambda _line: None
    output: Callable[[str, str], None] = lambda _node, _line: None


def silent() -> Reporter:
    return Reporter()


# Keyed by pulumi.automation.OpType's values (a str enum, so its members find these keys).
_VERBS = {
    "create": ("creating", "created"),
    "update": ("updating", "updated"),
    "replace": ("replacing", "replaced"),
    "delete": ("deleting", "deleted"),
    "refresh": ("refreshing", "refreshed"),
    "read": ("reading", "read"),
}


@dataclass(frozen=True)
class EngineProgress:
    """Turns an update's engine events into "creating styx-local:Node head ..." lines.

    No durations: the Automation API delivers events in batches from the engine's event
    log, so the time between two of them says nothing about the step.
    """

    report: Callable[[str], None]

    def __call__(self, event: EngineEvent) -> None:
        pre, done = event.resource_pre_event, event.res_outputs_event
        failed = event.res_op_failed_event
        step = pre or done or failed
        meta = step.metadata if step is not None else None
        if meta is None or meta.type.startswith(("pulumi:pulumi:Stack", "pulumi:providers:")):
            diag = event.diagnostic_event
            if diag is not None and diag.severity == "error" and diag.message.strip():
                self.report(f"  error: {diag.message.strip().splitlines()[0]}")
            return
        verbs = _VERBS.get(meta.op)
        if verbs is None:
            return
        what = f"{display_type(meta.type)} {meta.urn.rsplit('::', 1)[-1]}"
        if pre is not None:
            self.report(f"  {verbs[0]} {what} ...")
        elif done is not None:
            self.report(f"  {verbs[1]} {what}")
        else:
            self.report(f"  failed to {meta.op.value} {what}")


@dataclass(frozen=True)
class SetupProgress:
    """Playbook progress per node: task starts and results, and setup's own output lines."""

    reporter: Reporter

    def __call__(self, event: ProgressEvent) -> None:
        if event.status == "output":
            self.reporter.output(event.node or "-", event.message)
        elif event.status not in ("started", "skipped"):
            where = f"[{event.node}] " if event.node else ""
            detail = f": {event.message}" if event.message and event.status == "failed" else ""
            self.reporter.info(f"  {where}{event.task} ... {event.status}{detail}")
