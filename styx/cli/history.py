"""`styx history [CLUSTER]`: a stack's versions, who applied them, what changed, how it went."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from styx.errors import StyxError

if TYPE_CHECKING:
    from styx.engine import StackRef

__all__ = ["history_command", "resolve_ref", "stack_options"]

F = TypeVar("F", bound=Callable[..., Any])


def stack_location_options(func: F) -> F:
    """Where a stack lives: --stack-file or --backend (default: STYX_HOME's)."""
    func = click.option("--backend", "backend_url", metavar="URL",
                        help="The state backend (file:// or s3://); default: STYX_HOME's.")(func)
    return click.option("--stack-file", type=click.Path(path_type=Path, dir_okay=False),
                        help="A stack file naming the stack and its backend.")(func)


def stack_options(func: F) -> F:
    """CLUSTER, and where its stack lives (stack_location_options)."""
    return click.argument("cluster", required=False)(stack_location_options(func))


def resolve_ref(cluster: str | None, stack_file: Path | None, backend_url: str | None) -> StackRef:
    """The stack a history command reads: named, from a stack file, or the backend's only one."""
    from styx.engine import StackRef, default_backend_url, list_stacks
    from styx.spec import load_stack
    from styx.workflow import PROJECT

    passphrase = None
    if stack_file is not None:
        loaded = load_stack(stack_file)
        cluster = cluster or loaded.name
        backend_url = backend_url or loaded.backend_url
        passphrase = loaded.passphrase_file
    url = backend_url or default_backend_url()
    if cluster is None:
        names = [s.name for s in list_stacks(PROJECT, url)]
        if len(names) != 1:
            listed = f": {', '.join(names)}" if names else " (it holds none)"
            raise StyxError(f"name a cluster; {url} holds {len(names)}{listed}")
        cluster = names[0]
    return StackRef(PROJECT, cluster, url, passphrase)


def _short(commit: str | None, dirty: bool | None) -> str:
    if not commit:
        return "-"
    return commit[:10] + ("+dirty" if dirty else "")


@click.command("history")
@stack_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per version, in a list.")
def history_command(
    cluster: str | None, stack_file: Path | None, backend_url: str | None, as_json: bool
) -> None:
    """Show a cluster's versions: when, who, git commit, what changed, how it went."""
    from styx.workflow import stack_history

    ref = resolve_ref(cluster, stack_file, backend_url)
    entries = stack_history(ref)
    if as_json:
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    rows = [("VERSION", "TIME", "WHO", "COMMIT", "SUMMARY", "RESULT")]
    for e in entries:
        when = e.started.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        commit = _short(e.git_commit, e.record.git_dirty if e.record else None)
        rows.append((str(e.version), when, e.who or "-", commit, e.summary, e.result))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  "
                   + row[5])  # fmt: skip
    if not entries:
        click.echo(f"{ref.qualified} has no versions yet.")
