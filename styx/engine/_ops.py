"""Engine operations on a stack (preview, up, refresh, destroy, history), errors classified."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from pulumi import automation as auto
from pulumi.automation import EngineEvent

from styx.engine._collector import paced_collector
from styx.engine._errors import EngineLock, classify
from styx.errors import StackLockedError

__all__ = [
    "EngineLock",
    "EngineUpdate",
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


@dataclass(frozen=True)
class EngineUpdate:
    """One entry of the engine's history: its version (numbered from the oldest), kind, result."""

    version: int
    kind: str  # update | destroy | refresh | import ...
    result: str  # succeeded | failed | in-progress
    message: str
    start: datetime
    end: datetime | None


def _ignore(_event: EngineEvent) -> None:
    return None


def _ignore_line(_line: str) -> None:
    return None


# History pages the engine is asked for; the CLI's own default page is 10 entries.
_PAGE = 100


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def without_pending_creates(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """The deployment without the pending CREATEs of Styx's own (dynamic) providers.

    The engine keeps a cut-short create until a person decides whether it happened. Styx's
    local providers create idempotently (a node that runs is adopted), so creating again is
    the answer there; a cloud provider's pending create is left for a person to decide.
    """
    pending = deployment.get("pending_operations") or []

    def ours(op: Mapping[str, Any]) -> bool:
        resource = op.get("resource") or {}
        return op.get("type") == "creating" and str(resource.get("type", "")).startswith(
            "pulumi-python:dynamic"
        )

    kept = [op for op in pending if not ours(op)]
    return {**deployment, "pending_operations": kept} if len(kept) != len(pending) else dict(
        deployment
    )


def _here(lock: EngineLock) -> bool:
    return lock.host == socket.gethostname()


def is_stale(lock: EngineLock) -> bool:
    """A lock whose holder provably ended: made on this host by a process that is gone."""
    return lock.host == socket.gethostname() and _pid_gone(lock.pid)


@contextmanager
def _signals_stop_the_engine() -> Iterator[list[int]]:
    """While an engine command runs, Ctrl-C (or SIGTERM) asks the engine to cancel cleanly.

    Raising KeyboardInterrupt in the middle of the Automation API would leave the engine
    running and its reader threads reading closed pipes. Instead the signal goes to the
    engine's supervisor, the engine cancels (steps in flight finish and are recorded, its
    lock is released), the command returns, and then KeyboardInterrupt is raised.
    """
    if threading.current_thread() is not threading.main_thread():
        yield []
        return
    from styx import _supervise

    caught: list[int] = []

    def cancel(signum: int, _frame: object) -> None:
        caught.append(signum)
        _supervise.stop_supervised_children(signal.SIGTERM)

    previous = {sig: signal.signal(sig, cancel) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield caught
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if caught:
        raise KeyboardInterrupt


@dataclass(frozen=True)
class StackOps:
    """The operations Styx runs on one opened stack; secrets are never shown by the engine."""

    stack: auto.Stack

    @property
    def name(self) -> str:
        return self.stack.name

    @property
    def backend_url(self) -> str:
        settings = self.stack.workspace.project_settings()
        return settings.backend.url if settings.backend and settings.backend.url else ""

    def _lock_dir(self) -> Path | None:
        """The engine's lock folder of this stack on a file backend (None elsewhere)."""
        url = self.backend_url
        if not url.startswith("file://"):
            return None
        project = self.stack.workspace.project_settings().name
        root = Path(unquote(url.removeprefix("file://")))
        return root / ".pulumi" / "locks" / "organization" / project / self.stack.name

    def damaged_locks(self) -> list[Path]:
        """Lock files of the engine that are empty or not JSON (a full disk leaves them)."""
        folder = self._lock_dir()
        if folder is None or not folder.is_dir():
            return []
        bad = []
        for path in sorted(folder.glob("*.json")):
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                bad.append(path)
        return bad

    @contextmanager
    def _classified(self) -> Iterator[None]:
        try:
            with _signals_stop_the_engine() as caught:
                try:
                    yield
                except auto.errors.CommandError:
                    if caught:
                        return  # cancelled on request: KeyboardInterrupt follows
                    raise
        except auto.errors.CommandError as err:
            damaged = self.damaged_locks()
            if damaged:
                what = ", ".join(
                    f"{p} ({'empty' if p.stat().st_size == 0 else 'not valid JSON'})"
                    for p in damaged
                )
                name = self.stack.name
                raise StackLockedError(
                    f"stack {name}: the engine's lock file {what} is damaged; "
                    f"`styx unlock {name}` removes it",
                    stack=name,
                ) from err
            raise classify(err, self.stack.name) from err

    def engine_locks(self) -> list[EngineLock]:
        """The engine's locks on this stack, read from a file or S3 backend (none elsewhere:
        there the engine's own refusal names them)."""
        folder = self._lock_dir()
        if self.backend_url.startswith("s3://"):
            from styx.engine._backend import s3_engine_lock_records

            found = []
            project = self.stack.workspace.project_settings().name
            for key, text in s3_engine_lock_records(self.backend_url, project, self.stack.name):
                with contextlib.suppress(ValueError, TypeError, AttributeError):
                    data = json.loads(text)
                    found.append(EngineLock(
                        key, str(data.get("username", "?")), str(data.get("hostname", "?")),
                        int(data.get("pid", 0)), str(data.get("timestamp", "?")),
                    ))  # fmt: skip
            return found
        if folder is not None:
            found = []
            for path in sorted(folder.glob("*.json")):
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                    found.append(EngineLock(
                        str(path), str(data.get("username", "?")), str(data.get("hostname", "?")),
                        int(data.get("pid", 0)), str(data.get("timestamp", "?")),
                    ))  # fmt: skip
                except (OSError, ValueError, TypeError):
                    continue
            return found
        return []

    def clear_stale_locks(
        self, report: Callable[[str], None] = _ignore_line, *, wait: float = 300.0
    ) -> bool:
        """Remove the engine's locks whose holders are provably gone; whether any were.

        An engine of this host still at work (the one of a killed styx, finishing its steps
        in flight) is waited for, up to `wait` seconds. Only a lock made on this host by a
        dead process is removed; any other holder may still be at work, so it is left and
        the engine names it when it refuses.
        """
        deadline = time.monotonic() + wait
        told = False
        while True:
            working = [lk for lk in self.engine_locks() if not is_stale(lk) and _here(lk)]
            if not working or time.monotonic() >= deadline:
                break
            if not told:
                report(f"waiting for the engine already updating {self.stack.name} "
                       f"({working[0].describe()}) to finish")  # fmt: skip
                told = True
            time.sleep(0.5)
        locks = self.engine_locks()
        stale = [lock for lock in locks if is_stale(lock)]
        if not stale or len(stale) != len(locks):
            return False
        for lock in stale:
            report(f"the engine's lock on {self.stack.name} was left by {lock.describe()}, "
                   "which is gone: removing it")  # fmt: skip
        self.cancel()
        return True

    def cancel(self) -> None:
        """Remove the engine's locks on the stack (`pulumi cancel`)."""
        with self._classified():
            self.stack.cancel()

    def resource_count(self) -> int:
        """How many resources the checkpoint records (the stack and providers left out)."""
        with self._classified():
            deployment = self.stack.export_stack().deployment or {}
        return sum(
            1 for r in deployment.get("resources") or []
            if not str(r.get("type", "")).startswith(("pulumi:pulumi:Stack", "pulumi:providers:"))
        )  # fmt: skip

    def pending_operations(self) -> list[str]:
        """Operations a killed engine left unfinished, as "creating <urn name>" phrases."""
        with self._classified():
            deployment = self.stack.export_stack().deployment or {}
        pending = deployment.get("pending_operations") or []
        phrases = []
        for op in pending:
            resource = op.get("resource") or {}
            urn = str(resource.get("urn", "?"))
            phrases.append(f"{op.get('type', '?')} {urn.rsplit('::', 1)[-1]}")
        return phrases

    def version(self) -> int:
        """The stack's version: the number of its latest update, 0 when it has none.

        Pulumi Cloud numbers updates; the file and S3 backends record every update in the
        history but leave its version at 0, so there the count of updates is the version.
        The history is read page by page: the engine hands out one page unless asked.
        """
        numbered, total, page = 0, 0, 1
        with self._classified():
            while True:
                batch = self.stack.history(page_size=_PAGE, page=page, show_secrets=False)
                numbered = max([numbered, *(h.version or 0 for h in batch)])
                total += len(batch)
                if len(batch) < _PAGE:
                    break
                page += 1
        return numbered or total

    def updates(self) -> tuple[EngineUpdate, ...]:
        """The stack's whole history, oldest first, each entry numbered as `version()` counts."""
        batches: list[Any] = []
        page = 1
        with self._classified():
            while True:
                batch = self.stack.history(page_size=_PAGE, page=page, show_secrets=False)
                batches.extend(batch)
                if len(batch) < _PAGE:
                    break
                page += 1
        oldest_first = list(reversed(batches))
        return tuple(
            EngineUpdate(h.version or n, str(h.kind), str(h.result), h.message or "",
                         h.start_time, h.end_time)
            for n, h in enumerate(oldest_first, start=1)
        )  # fmt: skip

    def launched_at(self) -> datetime | None:
        """When the cluster's current life began: the first update since its last destroy
        (None when it has none: never applied, or torn down since)."""
        launched: datetime | None = None
        for update in sorted(self.updates(), key=lambda u: u.start):
            if update.kind == "destroy" and update.result == "succeeded":
                launched = None
            elif update.kind == "update" and launched is None:
                launched = update.start
        return launched

    def export_deployment(self) -> auto.Deployment:
        """The stack's checkpoint as `pulumi stack export` gives it (secrets stay encrypted)."""
        with self._classified():
            return self.stack.export_stack()

    def import_deployment(self, deployment: auto.Deployment) -> None:
        """Replace the stack's checkpoint (`pulumi stack import`)."""
        with self._classified():
            self.stack.import_stack(deployment)

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
            with self._classified(), paced_collector():
                self.stack.preview(on_event=collect, refresh=refresh or None, diff=False)
            return PreviewOutcome(tuple(events), version.result())

    def recover(self, report: Callable[[str], None] = _ignore_line) -> bool:
        """Before an update: clear locks whose holders are gone, and say which operations a
        killed engine left pending; True when there are some (refresh them first)."""
        self.clear_stale_locks(report)
        pending = self.pending_operations()
        if not pending:
            return False
        report(f"the engine's last operation on {self.stack.name} was cut short while: "
               f"{', '.join(pending)}; resolving them: a cut-short create of a local node is "
               "made again (it adopts what runs), the rest is refreshed")  # fmt: skip
        with self._classified():
            state = self.stack.export_stack()
            edited = without_pending_creates(state.deployment or {})
            if edited != state.deployment:
                self.stack.import_stack(auto.Deployment(version=state.version, deployment=edited))
        return True

    def up(
        self,
        *,
        message: str,
        refresh: bool = False,
        on_event: EventSink = _ignore,
        report: Callable[[str], None] = _ignore_line,
    ) -> Mapping[str, Any]:
        refresh = self.recover(report) or refresh
        with self._classified(), paced_collector():
            result = self.stack.up(
                message=message, refresh=refresh or None, on_event=on_event, show_secrets=False
            )
        return {k: ("[secret]" if v.secret else v.value) for k, v in result.outputs.items()}

    def refresh(self, *, on_event: EventSink = _ignore) -> None:
        with self._classified():
            self.stack.refresh(on_event=on_event, show_secrets=False)

    def destroy(
        self,
        *,
        message: str,
        on_event: EventSink = _ignore,
        report: Callable[[str], None] = _ignore_line,
    ) -> None:
        if self.recover(report):
            self.refresh(on_event=on_event)
        with self._classified():
            self.stack.destroy(message=message, on_event=on_event, show_secrets=False)
