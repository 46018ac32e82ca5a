"""Render a node's cloud-init user data from templates/aws_user_data.sh.j2 (pure)."""

from __future__ import annotations

import functools
import shlex
from dataclasses import dataclass

import jinja2

from styx._resources import data_path
from styx.spec import Autostop

__all__ = ["UserData", "render_user_data"]

_TEMPLATE = "aws_user_data.sh.j2"


@dataclass(frozen=True)
class UserData:
    """What a node's first-boot script needs to know."""

    cluster: str
    node: str
    rank: int
    num_nodes: int
    ssh_user: str
    autostop: Autostop | None
    shutdown_behavior: str  # stop | terminate


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_path("templates"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # a shell script, not HTML: values are shell-quoted instead
    )
    env.filters["shquote"] = lambda value: shlex.quote(str(value))
    return env.get_template(_TEMPLATE)


def render_user_data(data: UserData) -> str:
    """The shell script cloud-init runs once at first boot."""
    return _template().render(
        cluster=data.cluster,
        node=data.node,
        rank=data.rank,
        num_nodes=data.num_nodes,
        ssh_user=data.ssh_user,
        autostop=data.autostop,
        shutdown_behavior=data.shutdown_behavior,
    )
