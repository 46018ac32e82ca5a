"""`styx gc`: apply the retention policy to STYX_HOME now, or show what it would remove."""

from __future__ import annotations

import json

import click

from styx.home import styx_home
from styx.retention import Removal, RetentionPolicy, plan_sweep, remove

__all__ = ["gc_command"]


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _relative(item: Removal) -> str:
    try:
        return str(item.path.relative_to(styx_home()))
    except ValueError:
        return str(item.path)


@click.command("gc")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed, and its size.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the total.")
def gc_command(dry_run: bool, as_json: bool, quiet: bool) -> None:
    """Remove what the retention policy no longer keeps under STYX_HOME.

    \b
    Engine logs: off unless STYX_DEBUG is set (left-over ones go).
    Ansible run folders: failed ones beyond the newest STYX_KEEP_FAILED_RUNS (5) per stack.
    Job and setup logs: STYX_KEEP_LOGS_DAYS (7) days after `styx down`; never while the
    cluster exists. State backups: the newest STYX_KEEP_STATE_BACKUPS (10) per stack.
    The same policy runs by itself after `styx down` and each setup or job run.
    """
    removals = plan_sweep(RetentionPolicy.from_env())
    total = sum(item.size for item in removals)
    freed = total if dry_run else remove(removals)
    if as_json:
        click.echo(json.dumps({
            "dry_run": dry_run,
            "bytes": freed,
            "items": [{"path": str(i.path), "bytes": i.size, "reason": i.reason}
                      for i in removals],
        }, indent=2))  # fmt: skip
        return
    verb = "would remove" if dry_run else "removed"
    if not quiet:
        for item in removals:
            click.echo(f"{verb} {_relative(item)} ({_size(item.size)}): {item.reason}")
    click.echo(f"{verb.capitalize()} {len(removals)} item(s), {_size(freed)} under {styx_home()}.")
