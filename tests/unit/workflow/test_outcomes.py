"""The outcome record: where it lives in a backend, its round trip, and damaged records."""

from __future__ import annotations

from pathlib import Path

import pytest

from styx.engine import StackRef
from styx.errors import StyxError
from styx.workflow._outcomes import (
    OutcomeRecord,
    finished,
    read_outcomes,
    record_location,
    remove_outcomes,
    started,
    write_outcomes,
)


def test_location_sits_beside_the_engine_checkpoint(tmp_path: Path) -> None:
    assert record_location(StackRef("styx", "hello", tmp_path.as_uri())) == str(
        tmp_path / ".styx" / "styx" / "hello" / "outcomes.json"
    )
    ref = StackRef("styx", "hello", "s3://bucket/team/state?region=eu-west-1")
    assert record_location(ref) == "s3://bucket/team/state/.styx/styx/hello/outcomes.json"
    with pytest.raises(StyxError, match="file:// and s3://"):
        record_location(StackRef("styx", "hello", "gs://bucket"))


def test_an_attempt_keeps_the_last_good_inputs_until_it_succeeds(tmp_path: Path) -> None:
    ref = StackRef("styx", "hello", tmp_path.as_uri())
    assert read_outcomes(ref) is None
    first = finished(started(None, 1, "d1", "r1"), "ok")
    assert (first.status, first.ok_digest, first.complete) == ("ok", "d1", True)
    second = started(first, 2, "d2", "r2")
    write_outcomes(ref, OutcomeRecord({"head": second}))
    back = read_outcomes(ref)
    assert back is not None and back.get("head") == second
    assert (second.status, second.ok_digest, second.complete) == ("started", "d1", False)
    assert second.describe() == "last attempt did not finish at version 2"
    failed = finished(second, "failed", "exit 1")
    assert failed.ok_digest == "d1" and failed.describe() == "last attempt failed at version 2"
    remove_outcomes(ref)
    assert read_outcomes(ref) is None
    assert not list(Path(record_location(ref)).parent.glob("*.tmp"))


def test_a_damaged_record_is_named(tmp_path: Path) -> None:
    ref = StackRef("styx", "hello", tmp_path.as_uri())
    path = Path(record_location(ref))
    path.parent.mkdir(parents=True)
    path.write_text("")
    with pytest.raises(StyxError, match=f"outcome record {path} is damaged"):
        read_outcomes(ref)
