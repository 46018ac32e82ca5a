"""A task's `config:` (SkyPilot's per-task config overrides): what Styx applies, what it ignores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from styx.spec._yaml import NodePath, describe_path

__all__ = ["ConfigEffects", "read_config"]

# Sections that configure a cloud Styx does not run: ignoring them changes nothing on
# local or aws, which is what SkyPilot itself does with them on another cloud.
_OTHER_CLOUDS: Final = {
    "kubernetes": "Kubernetes", "gcp": "GCP", "azure": "Azure", "oci": "OCI",
    "nebius": "Nebius", "runpod": "RunPod", "lambda": "Lambda", "ibm": "IBM", "scp": "SCP",
    "vsphere": "vSphere", "vast": "Vast", "cudo": "Cudo", "fluidstack": "Fluidstack",
    "paperspace": "Paperspace", "primeintellect": "Prime Intellect", "do": "DigitalOcean",
    "ssh": "SSH node pools", "slurm": "Slurm", "hyperbolic": "Hyperbolic",
    "seeweb": "Seeweb", "shadeform": "Shadeform", "yotta": "Yotta",
}
_SECTION_REASONS: Final = {
    "docker": "Styx runs tasks on the node itself, not in a container",
    "jobs": "it configures managed jobs (`sky jobs`), which Styx does not run",
    "serve": "it configures SkyServe, which Styx does not run",
    "api_server": "Styx has no API server",
    "admin_policy": "Styx has no admin policies",
    "allowed_clouds": "Styx runs on local and aws, named in the task or stack file",
    "workspaces": "Styx has no workspaces (a stack file plays that part)",
    "active_workspace": "Styx has no workspaces (a stack file plays that part)",
}
# The only keys Styx applies, as (section, key).
_AWS_LABELS: Final = ("aws", "labels")


@dataclass(frozen=True)
class ConfigEffects:
    """What `config:` changes (labels for every node) and what it says Styx ignores."""

    labels: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    problems: tuple[tuple[NodePath, str], ...] = ()  # located errors (a wrong value type)


def read_config(config: Mapping[str, Any] | None) -> ConfigEffects:
    """Split a task's `config:` into what Styx applies and a warning per ignored key.

    Applied: `aws.labels` (tags on the cluster's machines; the task's own `labels` win, as
    in SkyPilot). Every other key is named in a warning with the reason it changes nothing.
    """
    labels: dict[str, str] = {}
    warnings: list[str] = []
    problems: list[tuple[NodePath, str]] = []
    for section, body in (config or {}).items():
        keys = list(body) if isinstance(body, Mapping) and body else [None]
        for key in keys:
            path: NodePath = ("config", section) if key is None else ("config", section, key)
            if (section, key) == _AWS_LABELS:
                value = body[key]
                if not isinstance(value, Mapping) or not all(
                        isinstance(v, str | int | float) and not isinstance(v, bool)
                        for v in value.values()):
                    problems.append((path, "expected a mapping of label: value"))
                    continue
                labels.update({str(k): str(v) for k, v in value.items()})
                continue
            warnings.append(f"{describe_path(path)} is ignored: {_reason(section)}")
    return ConfigEffects(labels, tuple(warnings), tuple(problems))


def _reason(section: str) -> str:
    if section in _OTHER_CLOUDS:
        return (f"it configures {_OTHER_CLOUDS[section]}, a cloud Styx does not run "
                "(Styx runs on local and aws)")
    if section in _SECTION_REASONS:
        return _SECTION_REASONS[section]
    if section == "aws":
        return "Styx applies only aws.labels from config; set the rest in a stack file"
    return "a SkyPilot setting Styx has no counterpart for"
