"""`styx cost-report`: each cluster's cost so far, from its stack's history."""

from __future__ import annotations

import json

import click

from styx.cli._common import use_color

__all__ = ["cost_report_command"]


@click.command("cost-report")
@click.option("--backend", "backend_url", metavar="URL",
              help="The state backend (file:// or s3://); default: STYX_HOME's.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON, spans included.")
def cost_report_command(backend_url: str | None, as_json: bool) -> None:
    """Show each cluster's cost so far, computed from its stack's history."""
    from styx.workflow import CAVEATS, PROJECT, cost_report

    report = cost_report(backend_url, PROJECT)
    if as_json:
        click.echo(json.dumps({"clusters": [c.to_dict() for c in report],
                               "caveats": list(CAVEATS)}, indent=2))  # fmt: skip
        return
    rows = [("CLUSTER", "LAUNCHED", "RUNNING", "STOPPED", "STATE", "$/H NOW", "COST SO FAR")]
    for c in report:
        launched = c.launched.astimezone().strftime("%Y-%m-%d %H:%M") if c.launched else "-"
        rows.append((c.cluster, launched, f"{c.hours('running'):.2f}h",
                     f"{c.hours('stopped'):.2f}h", c.state, f"${c.hourly_now:.2f}",
                     f"${c.total:.2f}"))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    for c in report:
        if c.problem:
            click.echo(f"  {c.cluster}: cannot read this stack: {c.problem}")
    click.echo(f"\nTotal: ${sum(c.total for c in report):.2f}")
    for line in CAVEATS:
        click.echo(click.style(f"Note: {line}", dim=True) if use_color() else f"Note: {line}")
