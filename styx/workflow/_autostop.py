"""What an autostop left behind for Styx to read while the head is down, and how it is shown.

A cloud whose nodes run on this machine (local) has its autostop action write a record into
the stack's folder ($STYX_HOME/stacks/<project>/<stack>/autostop.json): when, after how long
idle, and whether the nodes were stopped or removed. `styx status` and `styx plan` read it;
the next apply that brings the nodes up removes it. Clouds elsewhere (AWS) leave none: a
refresh reads their instances' state instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from styx.spec import Autostop

__all__ = [
    "AutostopRecord",
    "autostop_meaning",
    "clear_record",
    "describe_autostop",
    "read_record",
    "record_path",
]

RECORD_NAME = "autostop.json"
DEFAULT_WAIT_FOR = Autostop(1).wait_for  # SkyPilot's: jobs_and_ssh


def record_path(state_dir: Path) -> Path:
    return state_dir / RECORD_NAME


@dataclass(frozen=True)
class AutostopRecord:
    """One autostop that happened: at (epoch seconds), the setting, the idle time, the action."""

    at: float
    idle_minutes: float
    idle_for: float
    action: str  # stop | down

    @property
    def when(self) -> str:
        return datetime.fromtimestamp(self.at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    def describe(self) -> str:
        verb = "autodown" if self.action == "down" else "autostopped"
        return f"{verb} at {self.when} after {self.idle_minutes:g} idle min"

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "idle_minutes": self.idle_minutes, "idle_for": self.idle_for,
                "action": self.action, "description": self.describe()}  # fmt: skip


def read_record(state_dir: Path) -> AutostopRecord | None:
    """The stack's autostop record, or None (none, or unreadable: then nothing is claimed)."""
    try:
        data = json.loads(record_path(state_dir).read_text(encoding="utf-8"))
        return AutostopRecord(float(data["at"]), float(data["idle_minutes"]),
                              float(data.get("idle_for", data["idle_minutes"])),
                              str(data.get("action", "stop")))  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear_record(state_dir: Path) -> None:
    record_path(state_dir).unlink(missing_ok=True)


def _minutes(value: float) -> str:
    if value % 60 == 0 and value >= 60:
        return f"{value / 60:g}h"
    return f"{value:g}m"


def describe_autostop(setting: Mapping[str, Any] | None) -> str:
    """Autostop in words, with what it means for the bill ("none" when off)."""
    if not setting:
        return "none"
    minutes = float(setting.get("idle_minutes", 5))
    down = bool(setting.get("down"))
    text = f"{_minutes(minutes)} idle, {'down' if down else 'stop'}"
    if setting.get("wait_for") not in (None, DEFAULT_WAIT_FOR):
        text += f" (wait_for {setting['wait_for']})"
    return text


def autostop_meaning(setting: Mapping[str, Any] | None, hourly_cost: float) -> str:
    """What autostop means for the cost of a cluster of this hourly cost."""
    if not setting:
        return f"a ${hourly_cost:.2f}/h cluster runs (and costs) until stopped or torn down"
    minutes = _minutes(float(setting.get("idle_minutes", 5)))
    wait_for = setting.get("wait_for") or DEFAULT_WAIT_FOR
    if wait_for == "none":
        after = f"{minutes} after autostop is set, whatever runs"
    elif wait_for == "jobs_and_ssh":
        after = f"{minutes} after its last job and SSH session"
    else:
        after = f"{minutes} after its last job"
    verb = "is torn down" if setting.get("down") else "stops costing compute"
    return f"a ${hourly_cost:.2f}/h cluster {verb} {after}"
