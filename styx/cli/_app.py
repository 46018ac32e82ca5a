"""The root click group; commands are registered in styx.cli and imported only when used."""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from typing import Any

import click

from styx import __version__

__all__ = ["LazyCommand", "cli", "refuse_single_dash_long_options"]

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


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives, and the one line `styx --help` shows for it.

    The summary is the command's own short help (a test keeps them equal), so listing the
    commands imports none of them: a command module brings the engine, ansible or a cloud
    SDK with it, and `styx --help` or `styx validate` must not pay for those (as in pip's
    command table).
    """

    module: str
    attribute: str
    summary: str


class _StyxGroup(click.Group):
    """The root group: commands imported when first looked up by name, single-dash long
    options refused, NO_COLOR honoured."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, LazyCommand] = {}

    def add_lazy(self, name: str, command: LazyCommand) -> None:
        self.lazy[name] = command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            entry = self.lazy[cmd_name]
            command = getattr(importlib.import_module(entry.module), entry.attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{entry.module}.{entry.attribute} is not a click command")
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the summaries, importing no command not already loaded."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows: list[tuple[str, str]] = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None:
                if not loaded.hidden:
                    rows.append((name, loaded.get_short_help_str(limit)))
            else:
                # Shortened exactly as click shortens a loaded command's help.
                stand_in = click.Command(name, help=self.lazy[name].summary)
                rows.append((name, stand_in.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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
