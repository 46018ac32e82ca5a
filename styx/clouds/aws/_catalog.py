"""The AWS instance catalog: one row per (instance type, region), read from and written to CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from styx.errors import CloudError
from styx.home import styx_home
from styx.spec import canonical_accelerator

__all__ = [
    "COLUMNS",
    "Catalog",
    "InstanceOffering",
    "accelerator_name",
    "catalog_path",
    "load_catalog",
    "parse_catalog",
    "shipped_catalog_path",
    "user_catalog_path",
]

COLUMNS: Final = (
    "instance_type", "region", "vcpus", "memory_gib", "gpu_name", "gpu_count",
    "gpu_memory_gib", "arch", "burstable", "cluster_placement", "price", "spot_price", "zones",
    "efa",
)
# Catalogs written before the `efa` column (a refreshed one under STYX_HOME) still read.
_COLUMNS_BEFORE_EFA: Final = COLUMNS[:-1]
_DATE_KEY: Final = "prices_taken:"
_SHIPPED: Final = Path(__file__).resolve().parent / "catalog_data" / "vms.csv"


def accelerator_name(name: str, memory_gib: float) -> str:
    """EC2's accelerator name in SkyPilot's spelling, with its suffix where one model comes in
    two memory sizes (memory per device)."""
    name = canonical_accelerator(name)
    if name == "A100" and memory_gib >= 79:
        return "A100-80GB"
    if name == "V100" and memory_gib >= 31:
        return "V100-32GB"
    return name


@dataclass(frozen=True)
class InstanceOffering:
    """An instance type as offered in one region, with its hourly list prices in USD.

    `zones` are availability-zone IDs (use1-az1), not names: names map to different
    physical zones in each account, IDs do not. An empty `zones` means "not recorded".
    A price of None means the catalog has none, and the optimizer cannot choose the row.
    """

    instance_type: str
    region: str
    vcpus: float
    memory_gib: float
    gpu_name: str | None
    gpu_count: int
    gpu_memory_gib: float
    arch: str  # x86_64 | arm64
    burstable: bool
    cluster_placement: bool
    price: float | None
    spot_price: float | None
    zones: tuple[str, ...] = ()
    efa: bool = False  # Elastic Fabric Adapter: what network_tier best asks for

    @property
    def family(self) -> str:
        return self.instance_type.split(".", 1)[0]

    def hourly(self, spot: bool) -> float | None:
        return self.spot_price if spot else self.price

    def gpus_text(self) -> str:
        return f"{self.gpu_name}:{self.gpu_count}" if self.gpu_name else "-"


@dataclass(frozen=True)
class Catalog:
    """Every offering the optimizer may choose from, and the day its prices were taken."""

    offerings: tuple[InstanceOffering, ...]
    prices_taken: dt.date | None
    source: str  # where it was read from, for messages

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o.region for o in self.offerings))

    def find(self, instance_type: str, region: str) -> InstanceOffering | None:
        for offering in self.offerings:
            if offering.instance_type == instance_type and offering.region == region:
                return offering
        return None

    def to_csv(self, header: Iterable[str] = ()) -> str:
        """The CSV text: `header` lines as comments, then the date, then the rows."""
        out = io.StringIO()
        for line in header:
            out.write(f"# {line}\n" if line else "#\n")
        if self.prices_taken is not None:
            out.write(f"# {_DATE_KEY} {self.prices_taken.isoformat()}\n")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for o in self.offerings:
            writer.writerow([
                o.instance_type, o.region, _num(o.vcpus), _num(o.memory_gib), o.gpu_name or "",
                o.gpu_count, _num(o.gpu_memory_gib), o.arch, _flag(o.burstable),
                _flag(o.cluster_placement), _price(o.price), _price(o.spot_price),
                " ".join(o.zones), _flag(o.efa),
            ])
        return out.getvalue()


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _flag(value: bool) -> str:
    return "yes" if value else "no"


def _price(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _optional_float(text: str) -> float | None:
    return float(text) if text.strip() else None


def _row(row: Mapping[str, str]) -> InstanceOffering:
    return InstanceOffering(
        instance_type=row["instance_type"],
        region=row["region"],
        vcpus=float(row["vcpus"]),
        memory_gib=float(row["memory_gib"]),
        gpu_name=row["gpu_name"] or None,
        gpu_count=int(row["gpu_count"] or 0),
        gpu_memory_gib=float(row["gpu_memory_gib"] or 0),
        arch=row["arch"],
        burstable=row["burstable"] == "yes",
        cluster_placement=row["cluster_placement"] == "yes",
        price=_optional_float(row["price"]),
        spot_price=_optional_float(row["spot_price"]),
        zones=tuple(row["zones"].split()),
        efa=row.get("efa") == "yes",
    )


def parse_catalog(text: str, source: str) -> Catalog:
    """Parse catalog CSV; comment lines start with '#', one of them may carry the date."""
    taken: dt.date | None = None
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            comment = line.lstrip("#").strip()
            if comment.startswith(_DATE_KEY):
                taken = dt.date.fromisoformat(comment.removeprefix(_DATE_KEY).strip())
            continue
        if line.strip():
            body.append(line)
    reader = csv.DictReader(body)
    if tuple(reader.fieldnames or ()) not in (COLUMNS, _COLUMNS_BEFORE_EFA):
        raise CloudError(f"{source}: not an AWS catalog (expected columns {', '.join(COLUMNS)})",
                         cloud="aws")
    try:
        offerings = tuple(_row(row) for row in reader)
    except (KeyError, ValueError) as err:
        raise CloudError(f"{source}: line {reader.line_num + 1}: bad catalog row ({err})",
                         cloud="aws") from err
    return Catalog(offerings, taken, source)


def shipped_catalog_path() -> Path:
    """The catalog that ships with Styx (approximate list prices as of its date)."""
    return _SHIPPED


def user_catalog_path() -> Path:
    """Where `styx catalog refresh` writes, and where a refreshed catalog is read first."""
    return styx_home() / "catalogs" / "aws" / "vms.csv"


def catalog_path() -> Path:
    """The catalog in use: a refreshed one under STYX_HOME if there is one, else the shipped."""
    user = user_catalog_path()
    return user if user.is_file() else _SHIPPED


def load_catalog(path: Path | None = None) -> Catalog:
    """Read a catalog file (default: `catalog_path()`)."""
    chosen = path or catalog_path()
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as err:
        raise CloudError(f"cannot read the AWS catalog {chosen}: {err.strerror}",
                         cloud="aws") from err
    return parse_catalog(text, str(chosen))
