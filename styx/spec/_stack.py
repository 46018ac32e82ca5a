"""Stack files: which task runs where, with which state backend, variables and secrets provider."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from styx.errors import SpecError, SpecIssue
from styx.spec._model import FrozenMap, Resources, Spec
from styx.spec._parse import parse_cloud
from styx.spec._schema import schema_issues
from styx.spec._yaml import Document, internal_issue, parse_yaml, read_text

__all__ = ["StackFile", "apply_stack", "load_stack"]

DEFAULT_SECRETS_PROVIDER = "passphrase"


@dataclass(frozen=True)
class StackFile:
    """A loaded stack file. `task` and `passphrase_file` are absolute (relative to the file)."""

    name: str
    source: Path
    task: Path
    cloud: str | None = None
    region: str | None = None
    backend_url: str | None = None  # None: the default file://$STYX_HOME/state
    variables: Mapping[str, str] = field(default_factory=FrozenMap)
    envs: Mapping[str, str] = field(default_factory=FrozenMap)
    secrets_provider: str = DEFAULT_SECRETS_PROVIDER
    passphrase_file: Path | None = None
    allowed_ssh_cidrs: tuple[str, ...] = ()
    description: str | None = None
    # Pins what the task's relative local paths are relative to (default: the working
    # directory), so CI resolves them the same from wherever it runs.
    paths_base: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": str(self.source),
            "task": str(self.task),
            "cloud": self.cloud,
            "region": self.region,
            "backend_url": self.backend_url,
            "variables": dict(self.variables),
            "envs": dict(self.envs),
            "secrets_provider": self.secrets_provider,
            "passphrase_file": None if self.passphrase_file is None else str(self.passphrase_file),
            "allowed_ssh_cidrs": list(self.allowed_ssh_cidrs),
            "description": self.description,
            **({"paths_base": str(self.paths_base)} if self.paths_base is not None else {}),
        }


def _text(value: Any) -> str:
    # Variables reach templates as strings, like --var values; YAML's booleans keep YAML's words.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load_stack(path: str | Path) -> StackFile:
    """Read and validate a stack file; raises SpecError listing every problem."""
    display = str(path)
    source = Path(os.path.abspath(Path(path).expanduser()))
    try:
        document = parse_yaml(read_text(source, display), display)
        if not isinstance(document.data, dict):
            raise SpecError([document.issue((), "expected a mapping of stack fields "
                                                "(name, task, cloud, backend, vars, ...)")])
        issues = schema_issues(document, "stack")
        if issues:
            raise SpecError(issues)
        return _build(document, source)
    except SpecError:
        raise
    except Exception as err:  # the promise: bad input never ends in a traceback
        raise SpecError([internal_issue(display, err)]) from err


def _build(document: Document, source: Path) -> StackFile:
    data: dict[str, Any] = document.data
    issues: list[SpecIssue] = []
    cloud = data.get("cloud")
    if cloud is not None:
        try:
            cloud = parse_cloud(cloud)
        except ValueError as err:
            issues.append(document.issue(("cloud",), str(err)))
    cidrs: list[str] = []
    for index, raw in enumerate(data.get("allowed_ssh_cidrs", [])):
        try:
            cidrs.append(str(ipaddress.ip_network(raw.strip(), strict=False)))
        except ValueError:
            issues.append(document.issue(("allowed_ssh_cidrs", index),
                                         f"expected a CIDR like '203.0.113.0/24', got {raw!r}"))
    if issues:
        raise SpecError(issues)
    base = source.parent
    passphrase = data.get("passphrase_file")
    return StackFile(
        name=data["name"],
        source=source,
        task=Path(os.path.normpath(base / Path(data["task"]).expanduser())),
        cloud=cloud,
        region=data.get("region"),
        backend_url=data.get("backend"),
        variables=FrozenMap({k: _text(v) for k, v in (data.get("vars") or {}).items()}),
        envs=FrozenMap({k: _text(v) for k, v in (data.get("envs") or {}).items()}),
        secrets_provider=data.get("secrets_provider", DEFAULT_SECRETS_PROVIDER),
        passphrase_file=None if passphrase is None
        else Path(os.path.normpath(base / Path(passphrase).expanduser())),
        allowed_ssh_cidrs=tuple(dict.fromkeys(cidrs)),
        description=data.get("description"),
        paths_base=None if data.get("paths_base") is None
        else Path(os.path.normpath(base / Path(data["paths_base"]).expanduser())),
    )


def apply_stack(spec: Spec, stack: StackFile) -> Spec:
    """The spec with the stack's cloud and region put on every candidate.

    A region or zone written for another cloud means nothing on the stack's cloud, so it is
    dropped when the cloud changes; likewise a zone when the region changes.
    """
    if stack.cloud is None and stack.region is None:
        return spec

    def relocate(resources: Resources) -> Resources:
        cloud, region, zone = resources.cloud, resources.region, resources.zone
        if stack.cloud is not None:
            if cloud is not None and cloud != stack.cloud:
                region, zone = None, None
            cloud = stack.cloud
        if stack.region is not None:
            if region != stack.region:
                zone = None
            region = stack.region
        return replace(resources, cloud=cloud, region=region, zone=zone)

    candidates = tuple(dict.fromkeys(relocate(c) for c in spec.candidates))
    return replace(spec, resources=relocate(spec.resources), candidates=candidates,
                   candidates_ordered=spec.candidates_ordered and len(candidates) > 1)

