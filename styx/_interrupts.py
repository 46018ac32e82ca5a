"""Ctrl-C that is never lost.

Python turns SIGINT into KeyboardInterrupt wherever the main thread happens to be. When that
is inside a callback the interpreter runs for itself (the logging module's at-fork hooks,
which run each time ansible-runner forks ansible-playbook, or a finaliser), the exception is
printed as "Exception ignored in ..." and dropped: the command would carry on and report
success although the user asked it to stop. So the handler also remembers the signal, and the
places that run long (every ansible event, the end of a playbook, the end of the command) ask
`raise_if_pending()`, which raises it again if it was swallowed.
"""

from __future__ import annotations

import signal
from types import FrameType

_pending = False


def _on_interrupt(_signum: int, _frame: FrameType | None) -> None:
    global _pending
    _pending = True
    raise KeyboardInterrupt


def install() -> None:
    """SIGINT and SIGTERM both end Styx the way Ctrl-C does: locks released, outcomes recorded."""
    signal.signal(signal.SIGINT, _on_interrupt)
    signal.signal(signal.SIGTERM, _on_interrupt)


def pending() -> bool:
    """True once an interrupt arrived and no code has finished handling it."""
    return _pending


def raise_if_pending() -> None:
    """Raise the interrupt again if it arrived where Python could not deliver it."""
    if _pending:
        raise KeyboardInterrupt


def handled() -> None:
    """Code that caught the interrupt and deliberately goes on (stop following logs) says so."""
    global _pending
    _pending = False
