"""The SDK trims of styx/clouds/_sdk.py give the SDK's answers and leave no cyclic garbage."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.output import UNKNOWN
from pulumi.runtime import rpc

from styx.clouds import _sdk

# Read when pytest collects this module, before any test has run a program (which replaces it).
_SDK_CONTAINS_UNKNOWNS = rpc.contains_unknowns


@pytest.fixture()
def sdk_answer() -> Iterator[Any]:
    """The SDK's own function."""
    if _SDK_CONTAINS_UNKNOWNS is _sdk.contains_unknowns:
        pytest.skip("the SDK's function was replaced before this module loaded")
    yield _SDK_CONTAINS_UNKNOWNS


def _looped() -> list[Any]:
    loop: list[Any] = [1]
    loop.append(loop)
    return loop


CASES: list[Any] = [
    None, 1, "x", UNKNOWN, [], {}, [1, 2, {"a": "b"}], [1, [2, [3, UNKNOWN]]],
    {"a": {"b": [UNKNOWN]}}, {"a": ("tuples", UNKNOWN)},  # tuples are not walked by the SDK
    _looped(), [_looped(), {"k": UNKNOWN}],
]


@pytest.mark.parametrize("value", CASES)
def test_same_answer_as_the_sdk(value: Any, sdk_answer: Any) -> None:
    assert _sdk.contains_unknowns(value) == sdk_answer(value)


def _cyclic_garbage_after(check: Any) -> int:
    value = {"a": [1, 2, {"b": "c"}], "d": "e"}
    gc.collect()
    gc.disable()
    try:
        for _ in range(200):
            check(value)
        return gc.collect()
    finally:
        gc.enable()


def test_no_cyclic_garbage(sdk_answer: Any) -> None:
    # The SDK's recursive closure leaves a cycle per call; the loop leaves none.
    assert _cyclic_garbage_after(sdk_answer) >= 200
    assert _cyclic_garbage_after(_sdk.contains_unknowns) == 0


def test_trim_replaces_the_sdks_function() -> None:
    _sdk.trim_sdk_costs()
    _sdk.trim_sdk_costs()  # idempotent
    assert rpc.contains_unknowns is _sdk.contains_unknowns
    from pulumi.runtime import stack

    from styx.clouds import _sdk_wait

    assert stack.wait_for_rpcs is _sdk_wait.wait_for_rpcs
    from pulumi import output

    # pulumi.output asks rpc's at each call, so the replacement answers there too.
    assert output.contains_unknowns([UNKNOWN]) is True
    assert output.contains_unknowns([1]) is False
