"""The one error tree of Styx: every failure a user can cause or meet is a StyxError.

    StyxError                      base; `message` plus structured fields, no traceback shown
    ├── SpecError                  a task or stack file is wrong: carries a list of SpecIssue
    ├── EngineError                the Pulumi engine is missing, failed or refused
    │   ├── EngineNotFoundError    no usable `pulumi` and no way to get one
    │   ├── StackLockedError       another update holds the stack's lock
    │   └── StackNotFoundError     the stack has never been applied
    ├── CloudError                 a cloud cannot satisfy the request (catalog, features)
    │   └── CloudFieldError        task fields the cloud refuses, each located (file:line:col)
    ├── NodeError                  a node could not be reached, set up or run on
    └── PlanError                  a saved plan is stale, tampered with, or unreadable

The CLI turns any of these into one red line and exit code 1 (STYX_DEBUG=1 shows the
traceback); a library caller catches them by class and reads the fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CloudError",
    "CloudFieldError",
    "EngineError",
    "EngineNotFoundError",
    "NodeError",
    "PlanError",
    "SpecError",
    "SpecIssue",
    "StackLockedError",
    "StackNotFoundError",
    "StyxError",
]


class StyxError(Exception):
    """Base of every error Styx raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class SpecIssue:
    """One problem in a task or stack file, located as precisely as the input allows."""

    path: str
    line: int | None
    column: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class SpecError(StyxError):
    """A task or stack file failed to load or validate; `issues` holds every problem found."""

    def __init__(self, issues: Sequence[SpecIssue]) -> None:
        self.issues = tuple(issues)
        if not self.issues:
            raise ValueError("SpecError needs at least one issue")
        first = self.issues[0]
        super().__init__("\n".join(str(i) for i in self.issues))
        self.path = first.path
        self.line = first.line
        self.column = first.column
        self.field = first.field


class EngineError(StyxError):
    """The Pulumi engine failed; `stack` names the stack when there is one."""

    def __init__(self, message: str, *, stack: str | None = None) -> None:
        super().__init__(message)
        self.stack = stack


class EngineNotFoundError(EngineError):
    """No usable `pulumi` command, and none could be installed or built."""


class StackLockedError(EngineError):
    """Another update holds the stack's lock."""


class StackNotFoundError(EngineError):
    """The stack has no recorded state yet."""


class CloudError(StyxError):
    """A cloud cannot do what the spec asks (no fitting instance, unsupported feature).

    `field` names the task field at fault ("resources.image_id") when there is one, so the
    compile stage can say where in the task file it was written.
    """

    def __init__(self, message: str, *, cloud: str | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.cloud = cloud
        self.field = field


class CloudFieldError(CloudError):
    """Task fields the chosen cloud refuses; `issues` locates each one, the first in the fields."""

    def __init__(self, issues: Sequence[SpecIssue], *, cloud: str) -> None:
        self.issues = tuple(issues)
        if not self.issues:
            raise ValueError("CloudFieldError needs at least one issue")
        first = self.issues[0]
        super().__init__("\n".join(str(i) for i in self.issues), cloud=cloud, field=first.field)
        self.path = first.path
        self.line = first.line
        self.column = first.column


class NodeError(StyxError):
    """A node failed: unreachable, setup failed, or its job exited non-zero."""

    def __init__(self, message: str, *, node: str | None = None) -> None:
        super().__init__(message)
        self.node = node


class PlanError(StyxError):
    """A saved plan cannot be applied (stale, changed task, unreadable)."""
