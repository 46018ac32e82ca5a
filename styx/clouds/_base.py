"""The one interface every cloud implements, and its rules: which task fields it honours.

A cloud is a package under styx/clouds/ that exposes `CLOUD`, an instance of a Cloud
subclass, and is named in the table in styx/clouds/__init__.py. Nothing outside
styx/clouds/ imports a particular cloud; compile, plan, workflow and nodes ask the table.

What a cloud provides today:
- `rules`: per task field, honoured, warned (ignored, with a plan warning) or refused (an
  error naming the field, its file:line:col and the cloud). compile checks every spec
  against them before `compile` runs, so nothing is dropped silently;
- `compile(spec, cluster, stack)`: the resource graph, pure data (its catalog inside);
- `program(graph)`: the Pulumi program declaring exactly that graph (this loads Pulumi);
- `node_outputs(outputs)`: the nodes from a stack's outputs, host keys verified;
- `check_file_mounts(destinations)`: where a mount may land on its nodes.

- a node's state (running | stopped) is an input of its resource in the graph (every decl
  whose args carry "state"), so `styx stop`/`start` are plan changes and a refresh sees a
  node stopped behind Styx's back (an autostop) as drift;
- `autostop_action(...)`: what the head's agent runs when autostop is due.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from styx.graph import ResourceGraph

if TYPE_CHECKING:
    from styx.spec import Resources, Spec, StackFile

__all__ = [
    "Cloud",
    "FieldRule",
    "HostHoldings",
    "Program",
    "Support",
    "candidates_on",
    "images_of",
]

Program = Callable[[], None]


class Support(enum.Enum):
    """What a cloud does with a task field."""

    HONOURED = "honoured"
    WARNED = "warned"  # ignored; the plan says so in a warning
    REFUSED = "refused"  # an error: file:line:col, field and cloud


@dataclass(frozen=True)
class FieldRule:
    """One row of a cloud's field table.

    `field` is the field as written in a task ("num_nodes", "resources.use_spot"); `when`
    narrows the row to some values of it ("ami-…"). `asks(spec, candidate)` says whether a
    spec asks for what a warned or refused row is about; an honoured row needs none.
    """

    field: str
    support: Support
    note: str
    when: str = ""
    asks: Callable[[Spec, Resources], bool] | None = None

    @property
    def key(self) -> str:
        return f"{self.field} ({self.when})" if self.when else self.field


def candidates_on(spec: Spec, cloud: str) -> tuple[Resources, ...]:
    """The candidates a cloud may use: those naming it, or no cloud at all."""
    every = spec.candidates or (spec.resources,)
    return tuple(c for c in every if c.cloud in (None, cloud))


def images_of(resources: Resources) -> tuple[str, ...]:
    """The images a candidate names: its image_id, or each region's."""
    image = resources.image_id
    if image is None:
        return ()
    return (image,) if isinstance(image, str) else tuple(image.values())


class Cloud(abc.ABC):
    """A cloud behind Styx's one interface; see the module docstring."""

    name: ClassVar[str]
    rules: ClassVar[tuple[FieldRule, ...]]
    # Whether a task's buckets are read on this machine and shipped to the nodes with the
    # setup bundle (nodes that share this machine), rather than fetched by each node itself.
    fetches_buckets_here: ClassVar[bool] = False

    @abc.abstractmethod
    def compile(self, spec: Spec, cluster: str, stack: StackFile | None) -> ResourceGraph:
        """The spec's resource graph on this cloud: no engine, no credentials, no network."""

    @abc.abstractmethod
    def program(self, graph: ResourceGraph) -> Program:
        """The inline Pulumi program that declares exactly `graph`, nothing re-derived."""

    @abc.abstractmethod
    def node_outputs(self, outputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The stack's `nodes` output, each with a host key that was verified, not trusted."""

    def check_file_mounts(self, destinations: Iterable[str]) -> None:
        """CloudError for a mount destination the nodes cannot take; any path by default."""
        del destinations

    def autostop_action(
        self, cluster: str, nodes: Sequence[str], record: Path
    ) -> Mapping[str, Any] | None:
        """What the head's agent runs to stop its cluster (config["autostop_action"]).

        {"argv": [...], "env": {...}, "unset": [...], "details": bool}; with details the
        agent appends --at T --idle-minutes N --idle-for M [--down]. `record` is where a
        cloud whose nodes run on this machine writes what happened (None: no autostop).
        """
        del cluster, nodes, record
        return None

    # What a cloud whose nodes run on this very machine (local) finds here, stack or not: a
    # killed apply or a lost checkpoint leaves nodes no stack records. Other clouds hold
    # nothing on this machine, so by default there is nothing to find or sweep.

    def host_leftovers(self, cluster: str) -> HostHoldings:
        """What this machine holds of `cluster` now (nothing after a clean teardown)."""
        del cluster
        return HostHoldings()

    def sweep_host(self, cluster: str) -> None:
        """Stop and remove what this machine holds of `cluster`; NodeError naming survivors."""
        del cluster

    def host_clusters(self) -> tuple[str, ...]:
        """The clusters this machine holds anything of."""
        return ()

    def host_node_address(self, cluster: str, node: str) -> tuple[str, int] | None:
        """Where a node this machine holds listens, when no stack records it."""
        del cluster, node
        return None


@dataclass(frozen=True)
class HostHoldings:
    """What of a cluster this machine holds: node names, and a description of the rest."""

    nodes: tuple[str, ...] = ()
    description: str = ""  # empty when the machine holds nothing of it

    @property
    def empty(self) -> bool:
        return not self.description
