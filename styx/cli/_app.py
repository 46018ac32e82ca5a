"""The root click group; command modules attach themselves to it in styx.cli."""

from __future__ import annotations

import os
import re
from typing import Any

import click

from styx import __version__

__all__ = ["cli", "refuse_single_dash_long_options"]

# `-out=plan.json`: click would read `-o` with the value `ut=plan.json`, and save there.
_SINGLE_DASH_LONG = re.compile(r"-([A-Za-z][A-Za-z0-9-]+)(=.*)?")


def _options(command: click.Command) -> tuple[set[str], set[str]]:
    """(every long option name, every option string that takes a value) of `command`."""
    longs: set[str] = set()
    valued: set[str] = set()
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        names = [*param.opts, *param.secondary_opts]
        longs.update(n for n in names if n.startswith("--"))
        if not param.is_flag and not param.count:
            valued.update(param.opts)
    return longs, valued


def refuse_single_dash_long_options(
    ctx: click.Context, command: click.Command, args: list[str]
) -> None:
    """UsageError for `-out` / `-format=json` where `--out` / `--format` is an option."""
    longs, valued = _options(command)
    if isinstance(command, click.Group):  # `styx engine install -out`: its subcommand's too
        for name in args:
            sub = command.get_command(ctx, name)
            if sub is not None:
                sub_longs, sub_valued = _options(sub)
                longs |= sub_longs
                valued |= sub_valued
                break
    skip = False
    for arg in args:
        if skip:  # the value of the option before it, whatever it looks like
            skip = False
            continue
        if arg == "--":
            return
        if arg in valued:
            skip = True
            continue
        found = _SINGLE_DASH_LONG.fullmatch(arg)
        if found is not None and f"--{found[1]}" in longs:
            raise click.UsageError(
                f"single-dash option {arg}: did you mean --{found[1]}{found[2] or ''}? "
                "(long options take two dashes)",
                ctx,
            )


class _StyxGroup(click.Group):
    """The root group: refuses single-dash long options, honours NO_COLOR."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        if os.environ.get("NO_COLOR"):  # no-color.org: any value turns colour off
            extra.setdefault("color", False)
        return super().make_context(info_name, args, parent, **extra)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            refuse_single_dash_long_options(ctx, command, rest)
        return name, command, rest


@click.group(
    cls=_StyxGroup,
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

    Set STYX_DEBUG=1 to see tracebacks; STYX_HOME (default ~/.styx) holds engines and state;
    NO_COLOR=1 (or output to a file or pipe) prints plain text.
    """
