"""Engine operations on a stack (preview, up, refresh, destroy, history), errors classified."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pulumi import automation as auto
from pulumi.automation import EngineEvent

from styx.engine._errors import classify

__all__ = [
    "EventSink",
    "PreviewOutcome",
    "StackOps",
]

EventSink = Callable[[EngineEvent], None]


@dataclass(frozen=True)
class PreviewOutcome:
    """A preview's engine events, in order, and the stack version it was made against."""

    events: tuple[EngineEvent, ...]
    stack_version: int


def _ignore(_event: EngineEvent) -> None:
    return None


@dataclass(frozen=True)
class StackOps:
    """The operations Styx runs on one opened stack; secrets are never shown by the engine."""

    stack: auto.Stack

    @property
    def name(self) -> str:
        return self.stack.name

    @contextmanager
    def _classified(self) -> Iterator[None]:
        try:
            yield
        except auto.errors.CommandError as err:
            raise classify(err, self.stack.name) from err

    def version(self) -> int:
        """The stack's version: the number of its latest update, 0 when it has none.

        Pulumi Cloud numbers updates; the file and S3 backends record every update in the
        history but leave its version at 0, so there the count of updates is the version.
        """
        with self._classified():
            history = self.stack.history(show_secrets=False)
        numbered = max((h.version or 0 for h in history), default=0)
        return numbered or len(history)

    def outputs(self) -> dict[str, Any]:
        """The stack's recorded outputs, secret values left masked."""
        with self._classified():
            outs = self.stack.outputs()
        return {k: ("[secret]" if v.secret else v.value) for k, v in outs.items()}

    def preview(self, *, refresh: bool = False, on_event: EventSink = _ignore) -> PreviewOutcome:
        events: list[EngineEvent] = []

        def collect(event: EngineEvent) -> None:
            events.append(event)
            on_event(event)

        # Reading the history is a separate engine call: run it beside the preview.
        with ThreadPoolExecutor(max_workers=1) as pool:
            version = pool.submit(self.version)
            with self._classified():
                self.stack.preview(on_event=collect, refresh=refresh or None, diff=False)
            return PreviewOutcome(tuple(events), version.result())

    def up(
        self, *, message: str, refresh: bool = False, on_event: EventSink = _ignore
    ) -> Mapping[str, Any]:
        with self._classified():
            result = self.stack.up(
                message=message, refresh=refresh or None, on_event=on_event, show_secrets=False
            )
        return {k: ("[secret]" if v.secret else v.value) for k, v in result.outputs.items()}

    def refresh(self, *, on_event: EventSink = _ignore) -> None:
        with self._classified():
            self.stack.refresh(on_event=on_event, show_secrets=False)

    def destroy(self, *, message: str, on_event: EventSink = _ignore) -> None:
        with self._classified():
            self.stack.destroy(message=message, on_event=on_event, show_secrets=False)
