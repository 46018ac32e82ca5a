"""`styx check`: print what this machine can do and whether the local cloud can run."""

from __future__ import annotations

import json

import click

from styx.check import check_capabilities, local_cloud_ready

__all__ = ["check_command"]


@click.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the capabilities as JSON.")
def check_command(as_json: bool) -> None:
    """Check the engine, ansible, OpenSSH, AWS credentials and the state backend.

    Exits 0 when the embedded local cloud can run, 1 otherwise.
    """
    capabilities = check_capabilities()
    ready = local_cloud_ready(capabilities)
    if as_json:
        rows = [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in capabilities]
        click.echo(json.dumps({"local_cloud_ready": ready, "capabilities": rows}, indent=2))
    else:
        for c in capabilities:
            mark = click.style("✓", fg="green") if c.ok else click.style("✗", fg="red")
            click.echo(f"{mark} {c.name:<18} {c.detail}")
        verdict = "ready" if ready else "not ready"
        click.echo(f"\nlocal cloud: {verdict}")
    if not ready:
        raise click.exceptions.Exit(1)
