"""The root click group; commands are registered in styx.cli and imported only when used."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import click

from styx import __version__

__all__ = ["LazyCommand", "StyxGroup", "cli"]


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


class StyxGroup(click.Group):
    """A click group whose commands are imported the first time one is looked up by name."""

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


@click.group(
    cls=StyxGroup,
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
