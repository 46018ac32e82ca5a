"""The SDK's per-resource debug messages (blocking gRPC calls the engine drops) are skipped,
unless STYX_DEBUG asks for the engine's debug output."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pulumi import log

from styx.clouds._sdk import trim_sdk_costs


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    messages: list[str] = []
    monkeypatch.setattr(log, "debug", log.debug)  # restored after the test
    monkeypatch.setattr(log, "get_engine", lambda: object())
    monkeypatch.setattr(log, "_log", lambda _engine, _sev, msg, *_a: messages.append(msg))
    yield messages


def _send() -> None:
    log.debug("registering resource: ty=styx-local:Node, name=n1")  # as the SDK calls it


def test_debug_messages_are_not_sent_to_the_engine(
    sent: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STYX_DEBUG", raising=False)
    trim_sdk_costs()
    _send()
    assert sent == []


def test_styx_debug_keeps_them(sent: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYX_DEBUG", "1")
    trim_sdk_costs()
    _send()
    assert sent == ["registering resource: ty=styx-local:Node, name=n1"]


def test_info_and_warnings_still_reach_the_engine(
    sent: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STYX_DEBUG", raising=False)
    trim_sdk_costs()
    log.warn("a warning the user must see")
    assert sent == ["a warning the user must see"]
