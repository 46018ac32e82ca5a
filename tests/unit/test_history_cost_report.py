"""cost-report's arithmetic over a stack's history: ran, stopped, ran again, torn down."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from styx.engine import EngineUpdate
from styx.workflow import VersionRecord, cluster_cost

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _update(version: int, ended: float, kind: str = "update",
            result: str = "succeeded") -> EngineUpdate:  # fmt: skip
    # Each update took six minutes: a version costs from the end of its update.
    return EngineUpdate(version, kind, result, "", _at(ended - 0.1), _at(ended))


def _record(version: int, hourly: float, state: str = "running",
            stopped: float = 0.0) -> VersionRecord:  # fmt: skip
    return replace(
        VersionRecord(version=version, kind="apply", task={}, spec_hash="", graph={},
                      who="ann@box", started_at=""),
        cost_after=hourly, state=state, stopped_cost=stopped,
    )  # fmt: skip


def test_a_cluster_that_ran_stopped_and_ran_again() -> None:
    updates = [_update(1, 0), _update(2, 2), _update(3, 5), _update(4, 6)]
    records = {
        1: _record(1, 1.50),  # ran 2 h at $1.50/h
        2: _record(2, 1.50, state="stopped", stopped=0.10),  # stopped 3 h at the disk rate
        3: _record(3, 3.00),  # ran again, bigger: 1 h at $3/h
        4: _record(4, 3.00),  # an apply that changed nothing costly: 1.5 h more at $3/h
    }
    report = cluster_cost("c1", updates, records, now=_at(7.5))
    assert [(s.version, s.state) for s in report.spans] == [
        (1, "running"), (2, "stopped"), (3, "running"), (4, "running")]
    assert report.total == pytest.approx(2 * 1.50 + 3 * 0.10 + 1 * 3.00 + 1.5 * 3.00)
    assert report.hours("running") == pytest.approx(4.5)
    assert report.hours("stopped") == pytest.approx(3.0)
    assert report.state == "running" and report.hourly_now == 3.00
    assert report.launched == _at(0)


def test_teardown_stops_the_clock_and_refreshes_change_nothing() -> None:
    updates = [_update(1, 0), _update(2, 1, kind="refresh"), _update(3, 4, kind="destroy"),
               _update(4, 10), _update(5, 11, kind="update", result="failed")]
    records = {1: _record(1, 2.0), 4: _record(4, 0.5)}
    report = cluster_cost("c1", updates, records, now=_at(12))
    # 4 h at $2 until the teardown, nothing while down, then 2 h at $0.50 (the failed
    # engine update recorded nothing, so the rate stands).
    assert report.total == pytest.approx(4 * 2.0 + 2 * 0.5)
    assert [s.version for s in report.spans] == [1, 4]
    assert report.state == "running"


def test_a_torn_down_cluster_costs_nothing_more() -> None:
    updates = [_update(1, 0), _update(2, 3, kind="destroy")]
    report = cluster_cost("c1", updates, {1: _record(1, 1.0)}, now=_at(100))
    assert report.total == pytest.approx(3.0)
    assert report.state == "down" and report.hourly_now == 0.0


def test_a_stack_never_applied_by_styx() -> None:
    report = cluster_cost("c1", [], {}, now=_at(1))
    assert report.total == 0.0 and report.state == "never applied"
    assert report.to_dict()["spans"] == []
