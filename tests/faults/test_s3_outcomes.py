"""The outcome record in an S3 backend (moto's real S3 server): written, read, removed."""

from __future__ import annotations

import pytest
from _moto import MotoServer

from styx.engine import StackRef
from styx.workflow._outcomes import (
    OutcomeRecord,
    finished,
    read_outcomes,
    remove_outcomes,
    started,
    write_outcomes,
)

pytestmark = pytest.mark.integration


def test_the_record_round_trips_through_s3(aws_stand_in: MotoServer) -> None:
    bucket = aws_stand_in.bucket()
    ref = StackRef("styx", "hello", aws_stand_in.backend_url(bucket, "state"))
    assert read_outcomes(ref) is None
    record = OutcomeRecord({"head": finished(started(None, 3, "d1", "r1"), "failed", "x")})
    write_outcomes(ref, record)
    back = read_outcomes(ref)
    assert back is not None and back.get("head") == record.get("head")
    assert back.nodes["head"].describe() == "last attempt failed at version 3"
    remove_outcomes(ref)
    assert read_outcomes(ref) is None
