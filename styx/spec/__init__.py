"""The task layer: SkyPilot-compatible task and stack files in, a frozen, validated Spec out.

    load_task(path, ...)  -> Spec         template, YAML, schema, parse; SpecError on bad input
    load_stack(path)      -> StackFile    which task, where, which backend, vars
    apply_stack(spec, st) -> Spec         the stack's cloud/region on every candidate
    parse_cpus("4+"), parse_accelerators("V100:2"), ...   the value forms, for CLI flags

Every problem is a SpecIssue with file, line, column and field; loading never raises
anything but SpecError. The format's one source of truth is schemas/task.schema.json.
"""

from __future__ import annotations

from styx.spec._load import load_task
from styx.spec._model import (
    DEFAULT_AUTOSTOP_MINUTES,
    WAIT_FOR_MODES,
    Accelerator,
    Autostop,
    Bound,
    FrozenMap,
    PortRange,
    Resources,
    Secret,
    Spec,
)
from styx.spec._parse import (
    ACCELERATOR_NAMES,
    STYX_CLOUDS,
    canonical_accelerator,
    parse_accelerators,
    parse_autostop,
    parse_cloud,
    parse_cpus,
    parse_disk_size,
    parse_infra,
    parse_memory,
    parse_minutes,
    parse_ports,
)
from styx.spec._places import Place, field_issue, field_place
from styx.spec._schema import load_schema
from styx.spec._stack import StackFile, apply_stack, load_stack
from styx.spec._storage import StorageMount
from styx.spec._template import ENV_NAME, parse_env_file

__all__ = [
    "ACCELERATOR_NAMES",
    "DEFAULT_AUTOSTOP_MINUTES",
    "ENV_NAME",
    "STYX_CLOUDS",
    "WAIT_FOR_MODES",
    "Accelerator",
    "Autostop",
    "Bound",
    "FrozenMap",
    "Place",
    "PortRange",
    "Resources",
    "Secret",
    "Spec",
    "StackFile",
    "StorageMount",
    "apply_stack",
    "canonical_accelerator",
    "field_issue",
    "field_place",
    "load_schema",
    "load_stack",
    "load_task",
    "parse_accelerators",
    "parse_autostop",
    "parse_cloud",
    "parse_cpus",
    "parse_disk_size",
    "parse_env_file",
    "parse_infra",
    "parse_memory",
    "parse_minutes",
    "parse_ports",
]
