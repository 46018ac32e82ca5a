"""After a job, its logs come home in as few agent calls as the agent's answers allow, and the
job's final record is the one its followed log stream closed with."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from styx.jobs import sync_logs
from styx.jobs._client import _follow


class _Agent:
    """log_chunks as an agent answers it: each answer from a script, every call counted."""

    def __init__(self, state_dir: Path, answers: list[tuple[dict[str, bytes], bool]]) -> None:
        self.access = type("Access", (), {"state_dir": state_dir})()
        self.answers = answers
        self.calls = 0

    def log_chunks(
        self, _job: int, offsets: dict[str, int], _node: str | None = None
    ) -> tuple[dict[str, bytes], dict[str, int], bool]:
        texts, complete = self.answers[self.calls]
        self.calls += 1
        moved = {n: offsets.get(n, 0) + len(t) for n, t in texts.items()}
        return texts, {**offsets, **moved}, complete


def test_an_ended_jobs_logs_take_one_call(tmp_path: Path) -> None:
    agent = _Agent(tmp_path, [({"head": b"hi\n", "worker1": b""}, True)])
    folder = sync_logs(agent, 1)  # type: ignore[arg-type]
    assert agent.calls == 1
    assert (folder / "head.log").read_bytes() == b"hi\n"
    assert (folder / "worker1.log").read_bytes() == b""


def test_a_cut_answer_is_read_on_until_the_end(tmp_path: Path) -> None:
    agent = _Agent(tmp_path, [({"head": b"ab"}, False), ({"head": b"cd\n"}, True)])
    folder = sync_logs(agent, 1)  # type: ignore[arg-type]
    assert agent.calls == 2
    assert (folder / "head.log").read_bytes() == b"abcd\n"
    assert (folder / "head.offset").read_text() == "5"


def test_the_followed_stream_hands_back_the_jobs_final_record() -> None:
    record: dict[str, Any] = {"id": 4, "state": "SUCCEEDED"}
    lines = [{"node": "head", "text": "one\ntwo\n"}, {"end": record, "offsets": {"head": 8}}]
    stream = io.BytesIO(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    ended: list[dict[str, Any]] = []
    got = [(line.node, line.text) for line in _follow(stream, "c", ended)]
    assert got == [("head", "one"), ("head", "two")]
    assert ended == [record]
