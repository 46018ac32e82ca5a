"""The end of a program waits out every Output, raises failures, in one round when none fails."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime import stack as sdk_stack
from pulumi.runtime.sync_await import _sync_await

from styx.clouds import _sdk_wait

# Read when pytest collects this module, before any test has run a program.
_SDK_WAIT = sdk_stack.wait_for_rpcs


class _NoResources(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


@pytest.fixture()
def waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many pending tasks each asyncio.wait call was given, in order."""
    pulumi.runtime.settings.reset_options()
    pulumi.runtime.set_mocks(_NoResources(), preview=False)
    calls: list[int] = []
    real = asyncio.wait

    async def counted(fs: Any, **kwargs: Any) -> Any:
        calls.append(len(fs))
        return await real(fs, **kwargs)

    monkeypatch.setattr(asyncio, "wait", counted)
    yield calls
    pulumi.runtime.settings.reset_options()


def _run(program: Callable[[], None], wait: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdk_stack, "wait_for_rpcs", wait)
    _sync_await(sdk_stack.run_pulumi_func(program))


def _staggered(seen: list[int], count: int) -> Callable[[], None]:
    """Outputs that resolve one by one (as registrations answered by the engine do), each
    with an apply that starts one more Output while the program is being waited out."""

    async def later(index: int) -> int:
        await asyncio.sleep(0.0005 * index)
        return index

    def program() -> None:
        for index in range(count):
            pulumi.Output.from_input(later(index)).apply(
                lambda i: pulumi.Output.from_input(later(1)).apply(lambda _: seen.append(i)))

    return program


def test_every_output_and_the_outputs_it_starts_are_waited_for(
    waits: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    _run(_staggered(seen, 60), _sdk_wait.wait_for_rpcs, monkeypatch)
    assert sorted(seen) == list(range(60))


def test_one_round_per_wave_not_one_per_finished_output(
    waits: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    if _SDK_WAIT is _sdk_wait.wait_for_rpcs:
        pytest.skip("the SDK's wait was replaced before this module loaded")
    _run(_staggered([], 60), _SDK_WAIT, monkeypatch)
    sdk_rounds = len(waits)
    waits.clear()
    _run(_staggered([], 60), _sdk_wait.wait_for_rpcs, monkeypatch)
    assert sdk_rounds > 10  # the SDK re-arms every pending task for each finished batch
    assert len(waits) <= 3, waits


def test_a_failing_output_fails_the_program(
    waits: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(_: int) -> None:
        raise ValueError("bad apply")

    def program() -> None:
        pulumi.Output.from_input(1).apply(fail)

    with pytest.raises(ValueError, match="bad apply"):
        _run(program, _sdk_wait.wait_for_rpcs, monkeypatch)


def test_a_failure_is_raised_while_other_outputs_still_wait(
    waits: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # FIRST_EXCEPTION: the failure does not wait for the slow Outputs to end first.
    slow_done: list[bool] = []

    async def slow() -> int:
        await asyncio.sleep(5)
        slow_done.append(True)
        return 0

    def fail(_: int) -> None:
        raise RuntimeError("early failure")

    def program() -> None:
        pulumi.Output.from_input(slow()).apply(lambda _: None)
        pulumi.Output.from_input(1).apply(fail)

    with pytest.raises(RuntimeError, match="early failure"):
        _run(program, _sdk_wait.wait_for_rpcs, monkeypatch)
    assert slow_done == []
