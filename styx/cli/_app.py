"""The root click group; command modules attach themselves to it in styx.cli."""

from __future__ import annotations

import click

from styx import __version__

__all__ = ["cli"]


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="styx")
def cli() -> None:
    """Styx: plan and apply compute clusters from SkyPilot task YAML.

    \b
    A task (resources, num_nodes, setup, run, envs, file_mounts, workdir, autostop)
    compiles to a Pulumi program; every change is shown as a plan before it is made.

    \b
    Shell completion (bash; zsh and fish likewise):
      eval "$(_STYX_COMPLETE=bash_source styx)"

    Set STYX_DEBUG=1 to see tracebacks; STYX_HOME (default ~/.styx) holds engines and state.
    """
