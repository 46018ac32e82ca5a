"""Python's garbage collector paced for the length of an engine operation that runs a program.

While the engine previews or updates an inline program, every resource's registration is a
set of asyncio tasks, futures and Outputs that stay alive until the engine answers: a
1,000-node plan holds up to 700,000 tracked objects at once. With the default thresholds the
collector walked that whole heap 14 times in such a plan (3.9 s of 16-18 s) and freed next to
nothing each time (0-562 objects; the heap is live, not garbage). Issue 17's measurements,
1,000-node plan against the bare-resource floor: 1.86x as shipped, 1.23x with the collector
off, 1.22x with this pacing (and the SDK's cyclic garbage removed, styx/clouds/_sdk.py), at
the same peak memory (190 MB): the garbage that reaches the oldest generation during an
operation is small, and the young generations are still collected as usual.

So, for the operation only: what exists before it (modules, the caller's long-lived state) is
frozen out of the collector's view, and the oldest generation is collected only after 1,000
collections of the middle one rather than 10. Both are restored when the operation ends,
however it ends; a process that froze objects itself keeps its own choice (nothing is frozen
or unfrozen then). Re-entrant across threads: the first operation in sets, the last out
restores.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paced_collector"]

_OLDEST_EVERY = 1000  # collections of the middle generation per collection of the oldest

_lock = threading.Lock()
_depth = 0
_saved: tuple[tuple[int, int, int], bool] | None = None  # thresholds, whether we froze


@contextmanager
def paced_collector() -> Iterator[None]:
    """Pace the collector for the length of the block (see the module's docstring)."""
    global _depth, _saved  # the collector is process-wide state itself
    with _lock:
        if _depth == 0:
            thresholds = gc.get_threshold()
            freeze = gc.get_freeze_count() == 0
            if freeze:
                gc.freeze()
            gc.set_threshold(thresholds[0], thresholds[1], max(thresholds[2], _OLDEST_EVERY))
            _saved = (thresholds, freeze)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                thresholds, froze = _saved
                gc.set_threshold(*thresholds)
                if froze:
                    gc.unfreeze()
                _saved = None
