"""Ansible inventory, known_hosts and vars files for a cluster, rendered from its access data."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from styx._resources import data_path
from styx.nodes._model import ClusterAccess, NodeAccess

if TYPE_CHECKING:
    import jinja2

__all__ = ["HostEntry", "render_inventory", "render_known_hosts", "render_vars", "unsafe"]


def unsafe(value: object) -> str:
    """A YAML scalar Ansible will never template: `!unsafe` on a JSON-quoted string.

    The empty string stays plain: Ansible reads `!unsafe ""` as None, and "" holds no template.
    """
    text = json.dumps(str(value), ensure_ascii=False)
    return f"!unsafe {text}" if value != "" else text


@dataclass(frozen=True)
class HostEntry:
    """One node in an inventory, with the environment its setup or job gets."""

    name: str
    address: str
    port: int
    user: str
    rank: int
    env: Mapping[str, str]

    @classmethod
    def of(cls, node: NodeAccess, env: Mapping[str, str]) -> HostEntry:
        return cls(node.name, node.address, node.port, node.user, node.rank, env)


def _template(name: str) -> jinja2.Template:
    # Here: only playbook runs need Jinja, and exec's agent calls (known_hosts) must not pay it.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_path("templates"))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["unsafe"] = unsafe
    return env.get_template(name)


def render_inventory(cluster: ClusterAccess, hosts: list[HostEntry]) -> str:
    """The YAML inventory: every node under the group `styx_nodes`, in rank order."""
    return _template("inventory.yml.j2").render(
        cluster=cluster.cluster,
        hosts=hosts,
        private_key_path=str(cluster.private_key_path),
        python=cluster.python or "auto_silent",
    )


def render_known_hosts(cluster: ClusterAccess) -> str:
    """One line per node, in the `[address]:port` form ssh looks up for non-22 ports."""
    lines = []
    for node in cluster.nodes:
        host = node.address if node.port == 22 else f"[{node.address}]:{node.port}"
        lines.append(f"{host} {node.host_public_key.strip()}\n")
    return "".join(lines)


def _key(name: object) -> str:
    # Keys are never templated; tagging them would only make Ansible's loader stumble.
    return json.dumps(str(name), ensure_ascii=False)


def _emit(value: Any, indent: int) -> list[str]:
    pad = "  " * indent
    if isinstance(value, Mapping):
        if not value:
            return [pad + "{}"]
        lines = []
        for key, item in value.items():
            if isinstance(item, Mapping | list) and item:
                lines.append(f"{pad}{_key(key)}:")
                lines.extend(_emit(item, indent + 1))
            else:
                lines.append(f"{pad}{_key(key)}: {_emit(item, 0)[0]}")
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        lines = []
        for item in value:
            inner = _emit(item, indent + 1)
            lines.append(f"{pad}- {inner[0].strip()}")
            lines.extend(inner[1:])
        return lines
    if isinstance(value, bool):
        return [pad + ("true" if value else "false")]
    if isinstance(value, int | float):
        return [pad + json.dumps(value)]
    if value is None:
        return [pad + "null"]
    return [pad + unsafe(value)]


def render_vars(variables: Mapping[str, Any]) -> str:
    """A YAML vars file (for `-e @file`) in which every string is !unsafe."""
    return (
        "# Variables for one Styx playbook run; written by Styx.\n"
        + "\n".join(_emit(variables, 0))
        + "\n"
    )
