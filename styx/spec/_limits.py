"""Limits on untrusted task files, each enforced while loading, before the work it bounds.

`styx plan` runs on pull-request content in CI, so a task file is untrusted input. Every way
a file can make loading slow or large has a limit here, with its own name (it appears in the
error and in the README's "Limits" table, which a test keeps equal to this one). SkyPilot's
237 real tasks stay far below each one: at most 12 KB, 117 YAML nodes, lists of 6 items,
10 levels of nesting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

from styx.errors import SpecIssue, SpecLimitError

__all__ = [
    "FILE_BYTES",
    "INT_DIGITS",
    "LIMITS",
    "LIST_ITEMS",
    "LOAD_SECONDS",
    "TEMPLATE_INT_BITS",
    "TEMPLATE_LOOP_STEPS",
    "TEMPLATE_OUTPUT",
    "TEMPLATE_VALUE",
    "YAML_DEPTH",
    "YAML_NODES",
    "YAML_VALUES",
    "Budget",
    "Limit",
    "OverLimit",
    "limit_error",
]


@dataclass(frozen=True)
class Limit:
    """One bound: its name (in errors and the README), its value, and what it bounds."""

    name: str
    value: int | float
    unit: str
    what: str

    def __str__(self) -> str:
        value = f"{self.value:,}" if isinstance(self.value, int) else f"{self.value:g}"
        return f"{value} {self.unit}".rstrip()


# The pure-Python YAML parser reads about 2 MB/s: 256 KiB keeps the slowest file under
# 0.2 s, 20 times the largest real task.
FILE_BYTES: Final = Limit("file_size", 256 * 1024, "bytes",
                          "size of a task, stack or env file")
# About 0.07 ms of CPU per node to compose, then some to check it against the schema.
YAML_NODES: Final = Limit("yaml_nodes", 2_000, "nodes",
                          "YAML nodes (keys, values, items) as written")
YAML_VALUES: Final = Limit("yaml_values", 5_000, "values",
                           "values after expanding aliases (`*ref`, `<<:` merges)")
YAML_DEPTH: Final = Limit("yaml_depth", 64, "levels", "nesting of lists and mappings")
LIST_ITEMS: Final = Limit("list_items", 1_000, "items",
                          "items in one YAML list (`any_of`, `ports`, `file_mounts`, ...)")
INT_DIGITS: Final = Limit("int_digits", 1_000, "digits", "digits of one YAML integer")
TEMPLATE_OUTPUT: Final = Limit("template_output", FILE_BYTES.value, "characters",
                               "text a Jinja template renders to")
TEMPLATE_VALUE: Final = Limit("template_value", FILE_BYTES.value, "characters",
                              "any value a template builds, and every argument that sizes "
                              "one: `indent`, `center`, `truncate`, `wordwrap`, `format` "
                              "and `%` widths, `*` repetition, `join`, `replace`, `batch`")
TEMPLATE_LOOP_STEPS: Final = Limit("template_loop_steps", 100_000, "steps",
                                   "iterations of all `{% for %}` loops together "
                                   "(`range()` alone is capped at 100,000 items)")
TEMPLATE_INT_BITS: Final = Limit("template_int_bits", 4_096, "bits",
                                 "size of an integer a template computes (`*`, `**`)")
# CPU time, not wall time: a busy CI machine must not turn a good task into an error.
LOAD_SECONDS: Final = Limit("load_time", 0.5, "CPU seconds",
                            "time spent rendering the template and reading the YAML")

LIMITS: Final = (FILE_BYTES, YAML_NODES, YAML_VALUES, YAML_DEPTH, LIST_ITEMS, INT_DIGITS,
                 TEMPLATE_OUTPUT, TEMPLATE_VALUE, TEMPLATE_LOOP_STEPS, TEMPLATE_INT_BITS,
                 LOAD_SECONDS)


class OverLimit(Exception):
    """Raised deep inside a stage; the stage turns it into a located SpecLimitError."""

    def __init__(self, limit: Limit, message: str, line: int | None = None,
                 column: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.message = message
        self.line = line
        self.column = column
        self.field = field


def limit_error(limit: Limit, path: str, line: int | None, column: int | None,
                field: str | None, message: str) -> SpecLimitError:
    """The one-line error of a limit: what exceeded it, where, and the limit's name."""
    text = f"{message} (limit {limit.name}: {limit}; see Limits in the README)"
    return SpecLimitError(SpecIssue(path, line, column, field, text), limit.name)


class Budget:
    """The CPU time one load may spend; checked by the stages that can be interrupted."""

    def __init__(self, seconds: float = float(LOAD_SECONDS.value)) -> None:
        self._deadline = time.thread_time() + seconds

    def check(self) -> None:
        if time.thread_time() > self._deadline:
            raise OverLimit(LOAD_SECONDS,
                            f"loading took more than {LOAD_SECONDS} (the template or YAML "
                            "does too much work)")
