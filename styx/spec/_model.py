"""The task model: frozen, parsed values that every later stage reads instead of YAML."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from styx.spec._places import Place
from styx.spec._storage import StorageMount

__all__ = [
    "DEFAULT_AUTOSTOP_MINUTES",
    "WAIT_FOR_MODES",
    "Accelerator",
    "Autostop",
    "Bound",
    "FrozenMap",
    "PortRange",
    "Resources",
    "Secret",
    "Spec",
]

V = TypeVar("V")

# SkyPilot's default when autostop is switched on without a duration (`autostop: true`).
DEFAULT_AUTOSTOP_MINUTES: Final = 5
# SkyPilot's idleness rules, in its order; the first is its default.
WAIT_FOR_MODES: Final = ("jobs_and_ssh", "jobs", "none")

# Spec.to_dict shows this instead of a secret's value.
_REDACTED: Final = "[secret]"


class FrozenMap(Mapping[str, V]):
    """An immutable, hashable mapping that keeps insertion order.

    MappingProxyType would do, except that it cannot be hashed, and Resources must be
    hashable so that candidate lists can be de-duplicated.
    """

    __slots__ = ("_hash", "_items")

    def __init__(self, items: Mapping[str, V] | Iterable[tuple[str, V]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: dict[str, V] = dict(pairs)
        self._hash: int | None = None

    def __getitem__(self, key: str) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._items.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._items) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"

    def __reduce__(self) -> tuple[type[FrozenMap[V]], tuple[dict[str, V]]]:
        # Not the cached hash: string hashes differ between processes.
        return (type(self), (dict(self._items),))


def _number(value: float) -> str:
    """4.0 -> '4', 0.5 -> '0.5': how a person writes a count."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class Bound:
    """A requested amount: exactly `value`, or at least `value` (SkyPilot's "4+")."""

    value: float
    at_least: bool

    def satisfied_by(self, amount: float) -> bool:
        """Whether a machine with `amount` of this resource meets the request."""
        if self.at_least:
            return amount >= self.value - 1e-9
        return abs(amount - self.value) <= 1e-9

    def __str__(self) -> str:
        return _number(self.value) + ("+" if self.at_least else "")


@dataclass(frozen=True)
class Accelerator:
    """One accelerator choice: a device name and how many per node (fractions allowed)."""

    name: str
    count: float

    def __str__(self) -> str:
        return f"{self.name}:{_number(self.count)}"


@dataclass(frozen=True)
class PortRange:
    """Inclusive range of TCP ports to open; a single port has start == end."""

    start: int
    end: int

    def __str__(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"


@dataclass(frozen=True)
class Autostop:
    """Stop (or, with `down`, tear down) the cluster after this many idle minutes."""

    idle_minutes: int
    down: bool = False
    wait_for: str = WAIT_FOR_MODES[0]

    def to_dict(self) -> dict[str, Any]:
        return {"idle_minutes": self.idle_minutes, "down": self.down, "wait_for": self.wait_for}


class Secret:
    """A secret value that prints as "[secret]" everywhere; `reveal()` is the only way out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def digest(self) -> str:
        """sha256 of the value: lets fingerprints change with the secret without showing it."""
        return hashlib.sha256(self._value.encode("utf-8")).hexdigest()

    def __str__(self) -> str:
        return _REDACTED

    def __repr__(self) -> str:
        return _REDACTED

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


@dataclass(frozen=True)
class Resources:
    """What one node needs. `cloud` None means the default (local) cloud."""

    cloud: str | None = None
    region: str | None = None
    zone: str | None = None
    instance_type: str | None = None
    cpus: Bound | None = None
    memory: Bound | None = None  # GiB
    accelerator: Accelerator | None = None
    use_spot: bool = False
    disk_size_gb: int | None = None
    disk_tier: str | None = None
    ports: tuple[PortRange, ...] = ()
    image_id: str | Mapping[str, str] | None = None
    labels: Mapping[str, str] = field(default_factory=FrozenMap)
    autostop: Autostop | None = None
    network_tier: str | None = None  # "standard" | "best" (SkyPilot's tiers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, with the requested amounts in the forms a task file uses ("4+", "V100:2")."""
        image: str | dict[str, str] | None
        image = self.image_id if isinstance(self.image_id, str | None) else dict(self.image_id)
        out: dict[str, Any] = {
            "cloud": self.cloud,
            "region": self.region,
            "zone": self.zone,
            "instance_type": self.instance_type,
            "cpus": None if self.cpus is None else str(self.cpus),
            "memory_gb": None if self.memory is None else str(self.memory),
            "accelerator": None if self.accelerator is None else str(self.accelerator),
            "use_spot": self.use_spot,
            "disk_size_gb": self.disk_size_gb,
            "disk_tier": self.disk_tier,
            "ports": [str(p) for p in self.ports],
            "image_id": image,
            "labels": dict(self.labels),
            "autostop": None if self.autostop is None else self.autostop.to_dict(),
        }
        # Only when set: a task without it keeps the fingerprint it had before the field.
        if self.network_tier is not None:
            out["network_tier"] = self.network_tier
        return out


@dataclass(frozen=True)
class Spec:
    """A loaded, validated task: everything `compile`, `plan` and `nodes` need to know.

    `resources` is the task's own `resources` block (with the first accelerator choice when
    several are allowed); `candidates` lists every acceptable alternative, each with at most
    one accelerator, in preference order when `candidates_ordered` is true.
    """

    name: str | None
    source: Path
    num_nodes: int
    resources: Resources
    candidates: tuple[Resources, ...]
    candidates_ordered: bool
    envs: Mapping[str, str]
    secrets: Mapping[str, Secret]
    file_mounts: Mapping[str, str]  # remote destination -> absolute local source
    workdir: Path | None
    setup: str | None
    run: str | None
    # file_mounts entries that are buckets: remote destination -> the bucket and how it lands.
    storage: Mapping[str, StorageMount] = field(default_factory=FrozenMap)
    # Where each field was written (see styx.spec._places); not part of what is asked.
    places: Mapping[str, Place] = field(default_factory=FrozenMap, compare=False, repr=False)
    # What the task asks that Styx reads and deliberately does not apply (ignored `config:`
    # keys, managed-job settings): each reaches the plan as a warning. Not part of the
    # fingerprint: the wording of a warning is not something the task asks for.
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe canonical form; secret values appear as "[secret]"."""
        return self._canonical(secret=lambda _s: _REDACTED)

    def fingerprint(self) -> str:
        """sha256 of the canonical form, with each secret folded in as its own sha256.

        `source` is left out, and local paths count relative to the task's folder: the same
        task in another clone (CI applying a plan made in a pull request's checkout) is the
        same task.
        """
        data = self._canonical(secret=lambda s: "sha256:" + s.digest())
        del data["source"]
        base = self.source.parent
        data["file_mounts"] = {
            dst: os.path.relpath(src, base) for dst, src in self.file_mounts.items()
        }
        if self.workdir is not None:
            data["workdir"] = os.path.relpath(self.workdir, base)
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(blob.encode("ascii")).hexdigest()

    def _canonical(self, *, secret: Callable[[Secret], str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "source": str(self.source),
            "num_nodes": self.num_nodes,
            "resources": self.resources.to_dict(),
            "candidates": [c.to_dict() for c in self.candidates],
            "candidates_ordered": self.candidates_ordered,
            "envs": dict(self.envs),
            "secrets": {k: secret(v) for k, v in self.secrets.items()},
            "file_mounts": dict(self.file_mounts),
            "workdir": None if self.workdir is None else str(self.workdir),
            "setup": self.setup,
            "run": self.run,
        }
        # Only when set: a task without buckets keeps the fingerprint it had before them.
        if self.storage:
            out["storage"] = {dst: m.to_dict() for dst, m in self.storage.items()}
        return out
