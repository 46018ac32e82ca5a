"""`styx state export | import`: a stack's state and history to a file, and back into a backend."""

from __future__ import annotations

from pathlib import Path

import click

from styx.cli.history import resolve_ref, stack_options

__all__ = ["state_group"]


@click.group("state")
def state_group() -> None:
    """Export a stack's state and history to a file, or import one into a backend.

    The file holds the engine's checkpoint (secrets encrypted with the stack's passphrase),
    the engine's history and Styx's version records. Keep the passphrase with it: the same
    STYX_PASSPHRASE, or the same passphrase file, opens the stack wherever it is imported.
    """


@state_group.command("export")
@stack_options
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The file to write (mode 0600).")
def export_command(
    cluster: str | None, stack_file: Path | None, backend_url: str | None, out: Path
) -> None:
    """Write CLUSTER's checkpoint, engine history and Styx records to a file."""
    from styx.workflow import export_stack

    ref = resolve_ref(cluster, stack_file, backend_url)
    done = export_stack(ref, out)
    click.echo(f"Exported {ref.qualified} from {ref.backend_url} to {out}: {done.resources} "
               f"resource(s), {done.engine_entries} engine history file(s), {done.styx_files} "
               "Styx record(s).")  # fmt: skip


@state_group.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--backend", "backend_url", metavar="URL",
              help="The state backend to import into (file:// or s3://); default: STYX_HOME's.")
def import_command(file: Path, backend_url: str | None) -> None:
    """Create the stack exported in FILE in a backend that does not hold it yet."""
    from styx.workflow import export_file_stack, import_stack

    _project, stack = export_file_stack(file)
    ref = resolve_ref(stack, None, backend_url)
    done = import_stack(file, ref)
    click.echo(f"Imported {ref.qualified} into {ref.backend_url}: {done.resources} "
               f"resource(s), {done.engine_entries} engine history file(s), {done.styx_files} "
               "Styx record(s).")  # fmt: skip
