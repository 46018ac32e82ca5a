"""Choose the cheapest catalog instance that fits a spec's candidates, and say why."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from styx.clouds.aws._catalog import Catalog, InstanceOffering
from styx.errors import CloudError
from styx.spec import Bound, Resources

__all__ = ["DEFAULT_CPUS", "DEFAULT_MEMORY", "CandidateRow", "Choice", "choose_instance"]

# SkyPilot's default node when a task names no size at all: 8+ vCPUs, 4 GiB per vCPU.
DEFAULT_CPUS: Final = Bound(8, True)
DEFAULT_MEMORY: Final = Bound(32, True)

_Test = Callable[[InstanceOffering], bool]


@dataclass(frozen=True)
class CandidateRow:
    """One fitting offering: which candidate it fits, and its price per node-hour."""

    offering: InstanceOffering
    candidate: int  # index into the candidates given to choose_instance
    use_spot: bool
    hourly: float
    chosen: bool = False

    def to_dict(self) -> dict[str, Any]:
        o = self.offering
        return {
            "instance_type": o.instance_type,
            "region": o.region,
            "vcpus": o.vcpus,
            "memory_gib": o.memory_gib,
            "accelerator": o.gpus_text() if o.gpu_name else None,
            "use_spot": self.use_spot,
            "hourly": self.hourly,
            "candidate": self.candidate,
            "chosen": self.chosen,
        }


@dataclass(frozen=True)
class Choice:
    """The chosen offering, the candidate it satisfies, and every fitting row, best first."""

    offering: InstanceOffering
    resources: Resources
    use_spot: bool
    hourly: float  # per node
    rows: tuple[CandidateRow, ...]
    ordered: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance_type": self.offering.instance_type,
            "region": self.offering.region,
            "use_spot": self.use_spot,
            "hourly_per_node": self.hourly,
            "ordered": self.ordered,
            "candidates": [row.to_dict() for row in self.rows],
        }

    def table(self, num_nodes: int = 1, limit: int | None = 12) -> str:
        """A candidate table like SkyPilot's dry run; `limit` rows at most (None: all)."""
        shown = list(self.rows if limit is None else self.rows[:limit])
        if not any(row.chosen for row in shown):
            shown += [row for row in self.rows if row.chosen]
        head = ("INSTANCE", "REGION", "vCPUs", "Mem(GiB)", "GPUs", "SPOT", "$/h", "CHOSEN")
        lines: list[tuple[str, ...]] = [head]
        for row in shown:
            o = row.offering
            lines.append((
                o.instance_type, o.region, f"{o.vcpus:g}", f"{o.memory_gib:g}", o.gpus_text(),
                "yes" if row.use_spot else "no", f"{row.hourly:.4f}", "✔" if row.chosen else "",
            ))
        widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
        text = [
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            for line in lines
        ]
        rule = "ordered (first candidate that fits)" if self.ordered else "cheapest"
        title = (f"Considered AWS instances ({rule}; {len(self.rows)} fit, "
                 f"{len(shown)} shown):")
        total = self.hourly * num_nodes
        footer = (f"Chosen: {self.offering.instance_type} in {self.offering.region}"
                  f"{' (spot)' if self.use_spot else ''}, ${self.hourly:.4f}/h per node, "
                  f"${total:.4f}/h for {num_nodes} node{'s' if num_nodes != 1 else ''}")
        return "\n".join([title, *text, footer]) + "\n"


def _region_of(resources: Resources, default_region: str | None) -> str | None:
    if resources.region:
        return resources.region
    if resources.zone:
        return resources.zone[:-1]  # us-east-1a -> us-east-1
    return default_region


def _image_regions(resources: Resources) -> tuple[str, ...] | None:
    image = resources.image_id
    return tuple(image) if isinstance(image, Mapping) else None


def _accelerator_test(resources: Resources) -> tuple[str, _Test] | None:
    accel = resources.accelerator
    if accel is None:
        return None
    name = accel.name.lower()

    def test(o: InstanceOffering) -> bool:
        return (o.gpu_name or "").lower() == name and abs(o.gpu_count - accel.count) < 1e-9

    return f"accelerators {accel}", test


def _explain_accelerator(resources: Resources, pool: Sequence[InstanceOffering]) -> str:
    accel = resources.accelerator
    assert accel is not None
    counts = sorted({o.gpu_count for o in pool if (o.gpu_name or "").lower() == accel.name.lower()})
    if counts:
        forms = ", ".join(f"{accel.name}:{c}" for c in counts)
        return f"no instance has {accel}; {accel.name} comes as {forms}"
    known = sorted({o.gpu_name for o in pool if o.gpu_name})
    close = difflib.get_close_matches(accel.name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (f"no instance has accelerator {accel.name!r} (the catalog has: "
            f"{', '.join(known) or 'none'}){hint}")


def _bound_test(label: str, bound: Bound, amount: Callable[[InstanceOffering], float]
                ) -> tuple[str, _Test, Callable[[Sequence[InstanceOffering]], str]]:
    def explain(pool: Sequence[InstanceOffering]) -> str:
        have = sorted({amount(o) for o in pool})
        if bound.at_least:
            return f"no instance has {label} {bound} (the largest has {have[-1]:g})"
        near = ", ".join(f"{x:g}" for x in have[:12])
        return f"no instance has exactly {bound} {label} (sizes that fit so far: {near})"

    return f"{label} {bound}", lambda o: bound.satisfied_by(amount(o)), explain


def _fitting(resources: Resources, catalog: Catalog, default_region: str | None
             ) -> tuple[list[InstanceOffering], str | None]:
    """The offerings that satisfy one candidate, or none and the first constraint that failed."""
    if resources.cloud not in (None, "aws"):
        return [], f"it asks for cloud {resources.cloud!r}"
    pool = list(catalog.offerings)
    region = _region_of(resources, default_region)
    image_regions = _image_regions(resources)
    steps: list[tuple[str, _Test, Callable[[Sequence[InstanceOffering]], str]]] = []
    if region is not None:
        steps.append((f"region {region}", lambda o: o.region == region,
                      lambda _p: f"the catalog has no offering in region {region!r} (regions: "
                                 f"{', '.join(catalog.regions)})"))
    if image_regions is not None:
        steps.append(("image_id regions", lambda o: o.region in image_regions,
                      lambda _p: f"image_id names regions {', '.join(image_regions)}, none of "
                                 "which the catalog offers here"))
    if resources.instance_type:
        wanted = resources.instance_type

        def no_type(p: Sequence[InstanceOffering]) -> str:
            close = difflib.get_close_matches(wanted, sorted({o.instance_type for o in p}), n=1)
            where = f" in {region}" if region else ""
            hint = f"; did you mean {close[0]!r}?" if close else ""
            return f"instance type {wanted!r} is not in the catalog{where}{hint}"

        steps.append((f"instance_type {wanted}", lambda o: o.instance_type == wanted, no_type))
    else:
        # Without a named type, stay on x86 (task scripts and wheels assume it), off
        # burstable types (their list price holds only below a CPU baseline), and keep GPU
        # machines for tasks that ask for accelerators. Naming a type lifts all three.
        steps.append(("x86_64", lambda o: o.arch == "x86_64",
                      lambda _p: "no x86_64 instance (name an arm64 instance_type to use one)"))
        steps.append(("not burstable", lambda o: not o.burstable,
                      lambda _p: "no non-burstable instance (name a t3 instance_type to use "
                                 "one)"))
        if resources.accelerator is None:
            steps.append(("no accelerators", lambda o: o.gpu_count == 0,
                          lambda _p: "no instance without accelerators"))
    accel = _accelerator_test(resources)
    if accel is not None:
        steps.append((accel[0], accel[1], lambda p: _explain_accelerator(resources, p)))
    if resources.network_tier == "best":
        steps.append(("network_tier best", lambda o: o.efa,
                      lambda _p: "network_tier best needs high-speed networking (EFA), and no "
                                 "instance that fits so far has it (drop network_tier to use "
                                 "standard networking)"))
    cpus, memory = resources.cpus, resources.memory
    unsized = not (resources.instance_type or accel or cpus or memory)
    if unsized:
        cpus, memory = DEFAULT_CPUS, DEFAULT_MEMORY
    if cpus is not None:
        steps.append(_bound_test("vCPUs", cpus, lambda o: o.vcpus))
    if memory is not None:
        steps.append(_bound_test("GiB of memory", memory, lambda o: o.memory_gib))
    spot = resources.use_spot
    steps.append(("price", lambda o: o.hourly(spot) is not None,
                  lambda _p: f"the catalog has no {'spot ' if spot else ''}price for the "
                             "instances that fit"))
    for _label, test, explain in steps:
        kept = [o for o in pool if test(o)]
        if not kept:
            return [], explain(pool)
        pool = kept
    return pool, None


def choose_instance(candidates: Sequence[Resources], ordered: bool, catalog: Catalog,
                    default_region: str | None = None) -> Choice:
    """The cheapest fitting offering across `candidates` (any_of), or, when `ordered`, the
    cheapest offering of the first candidate that fits at all.

    A candidate without a region (and no `default_region`) may land in any catalog region.
    Raises CloudError naming, per candidate, the constraint that left nothing.
    """
    if not candidates:
        raise CloudError("no resources to choose from", cloud="aws")
    rows: list[CandidateRow] = []
    seen: set[tuple[str, str, bool]] = set()
    failures: list[str] = []
    for index, resources in enumerate(candidates):
        fitting, reason = _fitting(resources, catalog, default_region)
        if reason is not None:
            failures.append(reason)
        for offering in fitting:
            key = (offering.instance_type, offering.region, resources.use_spot)
            hourly = offering.hourly(resources.use_spot)
            if key in seen or hourly is None:
                continue
            seen.add(key)
            rows.append(CandidateRow(offering, index, resources.use_spot, hourly))
    if not rows:
        raise CloudError(_no_fit_message(failures), cloud="aws")

    def rank(row: CandidateRow) -> tuple[Any, ...]:
        price_key = (row.hourly, row.offering.instance_type, row.offering.region)
        return (row.candidate, *price_key) if ordered else price_key

    rows.sort(key=rank)
    best = rows[0]
    rows[0] = CandidateRow(best.offering, best.candidate, best.use_spot, best.hourly, True)
    return Choice(
        offering=best.offering,
        resources=candidates[best.candidate],
        use_spot=best.use_spot,
        hourly=best.hourly,
        rows=tuple(rows),
        ordered=ordered,
    )


def _no_fit_message(failures: Sequence[str]) -> str:
    if len(failures) == 1:
        return f"no AWS instance fits: {failures[0]}"
    listed = "; ".join(f"candidate {i + 1}: {reason}" for i, reason in enumerate(failures))
    return f"no AWS instance fits any candidate: {listed}"
