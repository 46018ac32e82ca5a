"""Parsers for SkyPilot's value forms ("4+", "32GB", "V100:2", "2h", "8000-8010", infra)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

from styx.spec._model import (
    DEFAULT_AUTOSTOP_MINUTES,
    WAIT_FOR_MODES,
    Accelerator,
    Autostop,
    Bound,
    PortRange,
)
from styx.spec._schema import suggest

__all__ = [
    "ACCELERATOR_NAMES",
    "SKYPILOT_CLOUDS",
    "STYX_CLOUDS",
    "canonical_accelerator",
    "parse_accelerator",
    "parse_accelerators",
    "parse_autostop",
    "parse_cloud",
    "parse_cpus",
    "parse_disk_size",
    "parse_infra",
    "parse_memory",
    "parse_minutes",
    "parse_ports",
]

STYX_CLOUDS: Final = ("local", "aws")
# Every cloud SkyPilot knows: naming one of these is "not supported yet", not a typo.
SKYPILOT_CLOUDS: Final = (
    "aws", "azure", "gcp", "ibm", "lambda", "scp", "oci", "kubernetes", "runpod", "vast",
    "vsphere", "cudo", "fluidstack", "paperspace", "primeintellect", "do", "nebius", "ssh",
    "slurm", "hyperbolic", "seeweb", "shadeform", "yotta",
)
_KUBERNETES_ALIASES: Final = ("k8s", "kubernetes")
# Accelerator names as SkyPilot spells them (its catalogs' canonical names): a task may
# write them in any case (`v100`, `l40s`), and Styx shows and matches them like this.
ACCELERATOR_NAMES: Final = (
    "A10", "A10G", "A100", "A100-80GB", "A100-80GB-SXM", "A40", "A4000", "A5000", "A6000",
    "B100", "B200", "GB200", "GH200", "H100", "H100-MEGA", "H100-SXM", "H200", "K80", "L4",
    "L40", "L40S", "M60", "P100", "P4", "P40", "RTX3060", "RTX3080", "RTX3090", "RTX4090",
    "RTX6000", "RTXPRO6000", "T4", "T4g", "V100", "V100-32GB", "MI100", "MI210", "MI250",
    "MI250X", "MI300A", "MI300X", "MI325X", "MI355X", "Inferentia", "Inferentia2",
    "Trainium", "Trainium2", "Gaudi HL-205", "Radeon Pro V520", "Maia100",
)
_CANONICAL_ACCELERATORS: Final = {name.lower(): name for name in ACCELERATOR_NAMES}

# Bytes per unit, SkyPilot's table: its "GB" is a GiB.
_SIZE_UNITS: Final = {
    "kb": 2**10, "ki": 2**10, "mb": 2**20, "mi": 2**20, "gb": 2**30, "gi": 2**30,
    "tb": 2**40, "ti": 2**40, "pb": 2**50, "pi": 2**50,
}
_TIME_UNITS: Final = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}
_NUMBER: Final = r"[0-9]+(?:\.[0-9]+)?"
_SIZE: Final = re.compile(rf"({_NUMBER})([A-Za-z]{{2}})?(\+)?")
_ACCELERATOR: Final = re.compile(rf"([A-Za-z0-9][A-Za-z0-9_.+-]*)(?::({_NUMBER}))?")
_ACCELERATOR_BY_MEMORY: Final = re.compile(r"[0-9]+[GgMmTt][Bb]\+?")
_PORT: Final = re.compile(r"([0-9]+)(?:-([0-9]+))?")


def _finite_positive(value: float, what: str) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    return value


def parse_cpus(value: Any) -> Bound:
    """4 -> exactly 4 vCPUs; "4+" -> at least 4."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Bound(_finite_positive(float(value), "cpus"), False)
    text = str(value).strip()
    at_least = text.endswith("+")
    number = text.removesuffix("+")
    if not re.fullmatch(_NUMBER, number):
        raise ValueError(f"expected a number of vCPUs or a string like '4+', got {value!r}")
    return Bound(_finite_positive(float(number), "cpus"), at_least)


def parse_memory(value: Any) -> Bound:
    """GiB: 16 -> exactly 16; "16+" -> at least 16; "32GB" or "32768MB+" with units."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Bound(_finite_positive(float(value), "memory"), False)
    text = str(value).strip()
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"expected GiB of memory as a number, or a string like '16+' or "
                         f"'32GB', got {value!r}")
    number, unit, plus = match.groups()
    gib = float(number) * _unit_bytes(unit, "memory") / 2**30
    return Bound(_finite_positive(gib, "memory"), plus is not None)


def _unit_bytes(unit: str | None, what: str) -> int:
    if unit is None:
        return 2**30
    factor = _SIZE_UNITS.get(unit.lower())
    if factor is None:
        raise ValueError(f"unknown size unit {unit!r} in {what}; use one of "
                         "KB, MB, GB, TB, PB (or Ki, Mi, Gi, Ti, Pi)")
    return factor


def parse_disk_size(value: Any) -> int:
    """Whole GB: 100 or "100Gi"/"100GB"/"1TB" (SkyPilot's GB are GiB)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"disk_size must be positive, got {value}")
        return value
    match = _SIZE.fullmatch(str(value).strip())
    if match is None or match.group(3):
        raise ValueError(f"expected a disk size in GB or a string like '100Gi', got {value!r}")
    number, unit, _ = match.groups()
    gb = float(number) * _unit_bytes(unit, "disk_size") / 2**30
    if not gb.is_integer() or gb <= 0:
        raise ValueError(f"disk_size must be a positive whole number of GB, got {value!r} "
                         f"({gb:g} GB)")
    return int(gb)


def parse_minutes(value: Any) -> int:
    """10 -> 10 minutes; "2h" -> 120; units m, h, d, w (SkyPilot's time forms)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"minutes cannot be negative, got {value}")
        return value
    match = re.fullmatch(r"([0-9]+)([A-Za-z]?)", str(value).strip())
    if match is None or (match.group(2) and match.group(2).lower() not in _TIME_UNITS):
        raise ValueError(f"expected minutes or a duration like '30m', '2h', '1d', got {value!r}")
    number, unit = match.groups()
    return int(number) * _TIME_UNITS[unit.lower() if unit else "m"]


def parse_autostop(value: Any) -> Autostop | None:
    """false -> None; true -> the default idle time; 10, "2h" or {idle_minutes, down, wait_for}."""
    if value is False or value is None:
        return None
    if value is True:
        return Autostop(DEFAULT_AUTOSTOP_MINUTES)
    if isinstance(value, Mapping):
        wait_for = str(value.get("wait_for", WAIT_FOR_MODES[0])).lower()
        if wait_for not in WAIT_FOR_MODES:
            raise ValueError(f"wait_for must be one of {', '.join(WAIT_FOR_MODES)}, "
                             f"got {wait_for!r}")
        idle = value.get("idle_minutes", DEFAULT_AUTOSTOP_MINUTES)
        return Autostop(parse_minutes(idle), bool(value.get("down", False)), wait_for)
    return Autostop(parse_minutes(value))


def parse_ports(value: Any) -> tuple[PortRange, ...]:
    """8080, "8000-8010" or a list of them -> sorted, merged ranges."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    ranges: list[PortRange] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise ValueError(f"expected a port or a range like '8000-8010', got {item!r}")
        match = _PORT.fullmatch(str(item).strip())
        if match is None:
            raise ValueError(f"expected a port or a range like '8000-8010', got {item!r}")
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else start
        if not 1 <= start <= end <= 65535:
            raise ValueError(f"ports must be 1-65535 with start <= end, got {item!r}")
        ranges.append(PortRange(start, end))
    merged: list[PortRange] = []
    for current in sorted(ranges, key=lambda r: (r.start, r.end)):
        if merged and current.start <= merged[-1].end + 1:
            last = merged.pop()
            current = PortRange(last.start, max(last.end, current.end))
        merged.append(current)
    return tuple(merged)


def canonical_accelerator(name: str) -> str:
    """SkyPilot's spelling of a known accelerator, whatever the case; others as written."""
    return _CANONICAL_ACCELERATORS.get(name.lower(), name)


def parse_accelerator(text: str) -> Accelerator:
    """ "V100" -> V100 x1; "A100:8"; "tpu-v2-8"; fractional counts ("T4:0.5") allowed."""
    text = text.strip().strip("'\"").strip()
    match = _ACCELERATOR.fullmatch(text)
    if match is None:
        raise ValueError(f"expected an accelerator like 'V100' or 'V100:2', got {text!r}")
    name, count = match.groups()
    if _ACCELERATOR_BY_MEMORY.fullmatch(name):
        raise ValueError(f"choosing accelerators by memory size ({name!r}) is not supported "
                         "by Styx yet; name the accelerator")
    number = float(count) if count is not None else 1.0
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"accelerator count must be positive, got {text!r}")
    return Accelerator(canonical_accelerator(name), number)


def parse_accelerators(value: Any) -> tuple[tuple[Accelerator, ...], bool]:
    """Every accelerator choice, and whether they are in order of preference.

    "V100:2" and {V100: 2} name one choice; a list ["V100:1", "A100:1"] (or the string
    "[V100:1, A100:1]") is ordered; a set string "{V100:1, A100:1}" or a mapping of several
    is unordered, and then sorted by name so that loading is deterministic.
    """
    ordered = False
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{" and text[-1:] in "]}":
            ordered = text.startswith("[")
            names = [part for part in text[1:-1].split(",") if part.strip()]
            if not names:
                raise ValueError(f"no accelerator in {value!r}")
            choices = [parse_accelerator(part) for part in names]
        else:
            choices = [parse_accelerator(text)]
    elif isinstance(value, Mapping):
        choices = []
        for name, count in value.items():
            # {V100:1, A100:1} in YAML is a mapping of "V100:1" to null.
            spec = str(name) if count is None else f"{name}:{_count_text(count)}"
            choices.append(parse_accelerator(spec))
    elif isinstance(value, list):
        ordered = True
        choices = [parse_accelerator(str(item)) for item in value]
    else:
        raise ValueError(f"expected an accelerator like 'V100:2', got {value!r}")
    unique = list(dict.fromkeys(choices))
    if not ordered:
        unique.sort(key=lambda a: (a.name.lower(), a.count))
    return tuple(unique), ordered and len(unique) > 1


def _count_text(count: Any) -> str:
    if isinstance(count, bool) or not isinstance(count, int | float):
        raise ValueError(f"accelerator count must be a number, got {count!r}")
    return repr(float(count))


def parse_cloud(name: str) -> str | None:
    """Lower-cased cloud name; None for '*' (any). Errors name what Styx can do instead."""
    cloud = name.strip().lower()
    if cloud == "*":
        return None
    if cloud in STYX_CLOUDS:
        return cloud
    supported = ", ".join(STYX_CLOUDS)
    if cloud in SKYPILOT_CLOUDS or cloud in _KUBERNETES_ALIASES:
        raise ValueError(f"cloud {name!r} is not supported by Styx yet (supported: {supported})")
    message = f"unknown cloud {name!r} (supported: {supported})"
    nearest = suggest(cloud, [*STYX_CLOUDS, *SKYPILOT_CLOUDS])
    if nearest is not None:
        message += f"; did you mean {nearest!r}?"
    raise ValueError(message)


def parse_infra(text: str) -> tuple[str | None, str | None, str | None]:
    """'aws/us-east-1/us-east-1a' -> (cloud, region, zone); '*' parts mean "any"."""
    parts = text.strip().split("/")
    if parts[0].lower() in _KUBERNETES_ALIASES:
        parse_cloud(parts[0])  # raises: not supported yet
    if len(parts) > 3 or not all(parts):
        raise ValueError(f"expected 'cloud', 'cloud/region' or 'cloud/region/zone', got {text!r}")
    cloud = parse_cloud(parts[0])
    region = parts[1] if len(parts) > 1 and parts[1] != "*" else None
    zone = parts[2] if len(parts) > 2 and parts[2] != "*" else None
    return cloud, region, zone
