"""The one error tree of Styx: every failure a user can cause or meet is a StyxError.

    StyxError                      base; `message` plus structured fields, no traceback shown
    ├── SpecError                  a task or stack file is wrong: carries a list of SpecIssue
    │   └── SpecLimitError         an untrusted file exceeds one of the loading limits
    ├── EngineError                the Pulumi engine is missing, failed or refused
    │   ├── EngineNotFoundError    no usable `pulumi` and no way to get one
    │   ├── StackLockedError       another update holds the stack's lock
    │   └── StackNotFoundError     the stack has never been applied
    │       └── UnknownClusterError  no cluster of that name: lists the known ones
    ├── CloudError                 a cloud cannot satisfy the request (catalog, features)
    │   └── CloudFieldError        task fields the cloud refuses, each located (file:line:col)
    ├── NodeError                  a node could not be reached, set up or run on
    │   └── HostKeyChangedError    a node's host key is not the one the stack recorded
    ├── JobError                   the cluster's agent refused or failed a job request
    ├── PlanError                  a saved plan is stale, tampered with, or unreadable
    ├── StorageError               a file or folder Styx needs cannot be read or written
    ├── PassphraseError            the passphrase of existing stacks is missing
    └── Interrupted                Ctrl-C (SIGINT) or SIGTERM stopped a command part-way

The CLI turns any of these into one red line and exit code 1 (Interrupted: "Interrupted.",
what goes on running where, and exit code 130); STYX_DEBUG=1 shows the traceback.
A library caller catches them by class and reads the fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CloudError",
    "CloudFieldError",
    "EngineError",
    "EngineNotFoundError",
    "HostKeyChangedError",
    "Interrupted",
    "JobError",
    "NodeError",
    "PassphraseError",
    "PlanError",
    "SpecError",
    "SpecIssue",
    "SpecLimitError",
    "StackLockedError",
    "StackNotFoundError",
    "StorageError",
    "StyxError",
    "UnknownClusterError",
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


class UnknownClusterError(StackNotFoundError):
    """A cluster name the backend (and this host) does not know; `known` lists those it does."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        listed = ", ".join(known) if known else "none"
        super().__init__(f"no cluster named {name!r}; known clusters: {listed}", stack=name)
        self.known = tuple(known)


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


class HostKeyChangedError(NodeError):
    """A node presented a host key other than the one the stack recorded for it.

    Styx refuses to connect, as ssh does: it may be an impostor on the node's address.
    `nodes` names every such node; `styx apply --accept-host-keys` records the keys the
    cloud reports now, when the nodes were replaced on purpose.
    """

    def __init__(self, message: str, *, nodes: Sequence[str]) -> None:
        super().__init__(message, node=nodes[0] if nodes else None)
        self.nodes = tuple(nodes)


class JobError(StyxError):
    """The cluster's agent refused or failed a job request (or cannot be reached)."""

    def __init__(self, message: str, *, cluster: str | None = None) -> None:
        super().__init__(message)
        self.cluster = cluster


class PlanError(StyxError):
    """A saved plan cannot be applied (stale, changed task, unreadable)."""


class SpecLimitError(SpecError):
    """A file exceeds a loading limit; `limit` names it (the README's "Limits" table)."""

    def __init__(self, issue: SpecIssue, limit: str) -> None:
        super().__init__([issue])
        self.limit = limit


class StorageError(StyxError):
    """A file or folder cannot be read or written: read-only, full, missing, not allowed.

    `path` is what failed, `reason` the system's words for why (e.g. "No space left on
    device"); the message also says what to do.
    """

    def __init__(self, message: str, *, path: str, reason: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class PassphraseError(StyxError):
    """The passphrase file is gone while the backend holds stacks encrypted with it.

    Styx never makes a new one then: no stack could be read or torn down with it.
    `path` is the missing file.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class Interrupted(StyxError):
    """The user interrupted a command; `still_running` says what goes on, where, and how to
    see or stop it ('' when nothing does)."""

    def __init__(self, message: str, *, still_running: str = "") -> None:
        super().__init__(message)
        self.still_running = still_running
