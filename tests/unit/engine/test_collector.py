"""The collector is paced for an engine operation, and put back as it was afterwards."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from styx.engine._collector import paced_collector


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def _full_collections_while_growing(objects: int) -> int:
    """Full collections the collector runs while a live heap grows, as a plan's does."""
    full = 0

    def count(phase: str, info: dict[str, Any]) -> None:
        nonlocal full
        if phase == "start" and info["generation"] == 2:
            full += 1

    gc.collect()
    gc.callbacks.append(count)
    try:
        live: list[Any] = []
        for i in range(objects):
            live.append({"index": i, "waiting": [i]})  # tracked containers that stay alive
            if i % 7 == 0:
                churn = [live[-1]]
                churn.append(churn)  # and short-lived cyclic garbage, as the SDK makes
    finally:
        gc.callbacks.remove(count)
    return full


def test_a_growing_live_heap_is_not_walked_again_and_again() -> None:
    assert _full_collections_while_growing(300_000) >= 3  # the default: several walks
    with paced_collector():
        assert _full_collections_while_growing(300_000) <= 1


def test_young_generations_still_collected() -> None:
    with paced_collector():
        assert gc.isenabled()
        young, middle, _ = gc.get_threshold()
        assert (young, middle) == gc.get_threshold()[:2]
        loop: list[Any] = []
        loop.append(loop)
        del loop
        assert gc.collect(0) + gc.collect(1) >= 1


def test_restored_after_the_operation_even_when_it_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), paced_collector():
        assert gc.get_threshold()[2] >= 1000
        assert gc.get_freeze_count() > 0
        raise RuntimeError("engine failed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_keeps_them_frozen() -> None:
    gc.freeze()
    frozen = gc.get_freeze_count()
    with paced_collector():
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == frozen


def test_concurrent_operations_restore_once_the_last_ends() -> None:
    before = gc.get_threshold()
    inside, release = threading.Event(), threading.Event()

    def other_operation() -> None:
        with paced_collector():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other_operation)
    with paced_collector():
        thread.start()
        inside.wait(10)
    assert gc.get_threshold()[2] >= 1000  # the other operation still runs
    release.set()
    thread.join(10)
    assert gc.get_threshold() == before
