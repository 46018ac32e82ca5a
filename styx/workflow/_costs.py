"""The cost so far of each cluster, from its stack's history (SkyPilot's `sky cost-report`).

Each version costs its hourly rate for as long as it stood: from the end of its engine update
to the end of the next update that changed the rate (another apply, a stop, a teardown), or
until now. A version recorded as stopped costs its disk rate; a teardown costs nothing after
it; a refresh, or an update Styx did not record, changes nothing. Estimates from catalog
prices, not a bill: CAVEATS says where they go wrong, as SkyPilot's report does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from styx.engine import EngineUpdate, StackOps, StackRef, default_backend_url, list_stacks
from styx.engine import open_stack as _open_stack
from styx.workflow._records import VersionRecord, list_records

__all__ = ["CAVEATS", "ClusterCost", "CostSpan", "cluster_cost", "cost_report"]

CAVEATS = (
    "This report is an estimate: each version's hourly cost (from the catalog's prices when "
    "it was applied) times the time it stood, from the stack's history.",
    "It may not be accurate for clusters with autostop or use_spot set, nor for clusters "
    "stopped or terminated outside Styx (a cloud console); disks, network and storage "
    "beyond the recorded disk rate are not counted.",
)


@dataclass(frozen=True)
class CostSpan:
    """One stretch of a cluster's life at one rate."""

    version: int
    state: str  # running | stopped | down
    start: datetime
    end: datetime
    hourly: float

    @property
    def hours(self) -> float:
        return max((self.end - self.start).total_seconds(), 0.0) / 3600

    @property
    def cost(self) -> float:
        return self.hours * self.hourly

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "state": self.state, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "hours": self.hours, "hourly": self.hourly,
                "cost": self.cost}  # fmt: skip


@dataclass(frozen=True)
class ClusterCost:
    """A cluster's cost so far, by span."""

    cluster: str
    spans: tuple[CostSpan, ...]
    state: str  # now: running | stopped | down | never applied
    hourly_now: float
    problem: str | None = None

    @property
    def total(self) -> float:
        return sum(s.cost for s in self.spans)

    def hours(self, state: str) -> float:
        return sum(s.hours for s in self.spans if s.state == state)

    @property
    def launched(self) -> datetime | None:
        return self.spans[0].start if self.spans else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "state": self.state,
            "launched": self.launched.isoformat() if self.launched else None,
            "hours_running": self.hours("running"),
            "hours_stopped": self.hours("stopped"),
            "hourly_now": self.hourly_now,
            "total_cost": self.total,
            "spans": [s.to_dict() for s in self.spans],
            "problem": self.problem,
        }


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def cluster_cost(
    cluster: str,
    updates: Sequence[EngineUpdate],
    records: Mapping[int, VersionRecord],
    now: datetime,
) -> ClusterCost:
    """The cost arithmetic over one stack's history (pure: no engine, no clock of its own)."""
    now = _aware(now)
    spans: list[CostSpan] = []
    current: tuple[int, str, datetime, float] | None = None  # version, state, since, rate

    def close(at: datetime) -> None:
        if current is not None and current[1] != "down":
            spans.append(CostSpan(current[0], current[1], current[2], at, current[3]))

    for update in sorted(updates, key=lambda u: u.version):
        at = _aware(update.end or update.start)
        record = records.get(update.version)
        if update.kind == "destroy" and update.result == "succeeded":
            close(at)
            current = (update.version, "down", at, 0.0)
        elif record is not None:
            stopped = record.state == "stopped"
            rate = record.stopped_cost if stopped else record.cost_after
            close(at)
            current = (update.version, "stopped" if stopped else "running", at, rate)
    close(now)
    if current is None:
        return ClusterCost(cluster, (), "never applied", 0.0)
    return ClusterCost(cluster, tuple(spans), current[1], current[3])


def cost_report(
    backend_url: str | None = None, project: str = "styx", now: datetime | None = None
) -> list[ClusterCost]:
    """Every cluster of the backend with its cost so far (the default file backend unless named)."""
    from styx.errors import StyxError

    url = backend_url or default_backend_url()
    moment = now or datetime.now(UTC)
    out = []
    for listing in list_stacks(project, url):
        ref = StackRef(project, listing.name, url)
        try:
            updates = StackOps(_open_stack(ref, create=False)).updates()
            out.append(cluster_cost(listing.name, updates, list_records(ref), moment))
        except StyxError as err:
            out.append(ClusterCost(listing.name, (), "unknown", 0.0, problem=str(err)))
    return out
