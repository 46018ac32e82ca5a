"""`styx catalog`: show the AWS instance catalog, or rebuild it from the EC2 and pricing APIs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from styx.clouds.aws import (
    DEFAULT_REGIONS,
    Catalog,
    boto3_clients,
    catalog_path,
    choose_instance,
    load_catalog,
    refresh_catalog,
    shipped_catalog_path,
    user_catalog_path,
)
from styx.clouds.overrides import ResourceOverrides, apply_overrides
from styx.errors import CloudError, StyxError
from styx.spec import Resources, Spec

__all__ = ["catalog_group"]

_REFRESHED_HEADER = (
    "AWS instance catalog rebuilt by `styx catalog refresh` on {today}.",
    "Specs and zones from EC2 DescribeInstanceTypes / DescribeInstanceTypeOfferings ({source});",
    "on-demand prices from the AWS Price List API (USD/hour, Linux, shared tenancy) and spot",
    "prices from DescribeSpotPriceHistory (cheapest zone), as of the date below. Rows whose",
    "prices could not be read keep the earlier catalog's; an empty price cannot be chosen.",
)


@click.group("catalog")
def catalog_group() -> None:
    """The AWS instance catalog the optimizer chooses from."""


@catalog_group.command("show")
@click.option("--cpus", metavar="N[+]", help="Only types with these vCPUs (e.g. 4+).")
@click.option("--memory", metavar="GIB[+]", help="Only types with this memory (e.g. 16+).")
@click.option("--gpus", metavar="NAME[:COUNT]", help="Only types with these GPUs (e.g. V100:8).")
@click.option("--region", help="Only this region.")
@click.option("--use-spot", is_flag=True, help="Rank by spot price.")
@click.option("--all", "show_all", is_flag=True, help="Every row, not only the first 30.")
def show_command(cpus: str | None, memory: str | None, gpus: str | None, region: str | None,
                 use_spot: bool, show_all: bool) -> None:
    """List the catalog's instance types, cheapest first; with filters, those that fit."""
    catalog = load_catalog()
    click.echo(_describe(catalog))
    if not (cpus or memory or gpus):
        _print_rows(catalog, region, use_spot, show_all)
        return
    # The same path a task takes: parse the filters as flags, then ask the optimizer.
    base = Spec(name=None, source=Path("<catalog show>"), num_nodes=1,
                resources=Resources(cloud="aws", region=region, use_spot=use_spot),
                candidates=(), candidates_ordered=False, envs={}, secrets={}, file_mounts={},
                workdir=None, setup=None, run=None)
    spec = apply_overrides(base, ResourceOverrides(cpus=cpus, memory=memory, gpus=gpus))
    choice = choose_instance(spec.candidates, spec.candidates_ordered, catalog, region)
    click.echo(choice.table(limit=None if show_all else 30), nl=False)


def _describe(catalog: Catalog) -> str:
    taken = catalog.prices_taken.isoformat() if catalog.prices_taken else "unknown"
    shipped = " (shipped with Styx)" if Path(catalog.source) == shipped_catalog_path() else ""
    return (f"catalog {catalog.source}{shipped}: {len(catalog.offerings)} offerings in "
            f"{len(catalog.regions)} regions, prices taken {taken} (approximate list prices)")


def _print_rows(catalog: Catalog, region: str | None, use_spot: bool, show_all: bool) -> None:
    rows = [o for o in catalog.offerings if region is None or o.region == region]
    rows.sort(key=lambda o: (o.hourly(use_spot) is None, o.hourly(use_spot) or 0.0,
                             o.instance_type, o.region))
    shown = rows if show_all else rows[:30]
    header = ("INSTANCE", "REGION", "vCPUs", "Mem(GiB)", "GPUs", "ARCH", "$/h", "SPOT $/h")
    table = [header] + [
        (o.instance_type, o.region, f"{o.vcpus:g}", f"{o.memory_gib:g}", o.gpus_text(), o.arch,
         "-" if o.price is None else f"{o.price:.4f}",
         "-" if o.spot_price is None else f"{o.spot_price:.4f}")
        for o in shown
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if len(shown) < len(rows):
        click.echo(f"... {len(rows) - len(shown)} more (--all)")


@catalog_group.command("refresh")
@click.option("--region", "regions", multiple=True, metavar="REGION",
              help=f"Region to describe (repeatable; default: {', '.join(DEFAULT_REGIONS)}).")
@click.option("--endpoint-url", metavar="URL",
              help="Send the AWS calls to this endpoint (a stand-in such as moto's server).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write here instead of STYX_HOME/catalogs/aws/vms.csv (which Styx reads).")
def refresh_command(regions: tuple[str, ...], endpoint_url: str | None,
                    output: Path | None) -> None:
    """Rebuild the catalog from EC2 (specs, zones, spot prices) and the pricing API.

    Uses the default AWS credential chain and read-only calls. Prices that cannot be read
    are kept from the catalog in use; the command says which.
    """
    previous = load_catalog(catalog_path())
    result = refresh_catalog(boto3_clients(endpoint_url), regions or DEFAULT_REGIONS,
                             previous=previous)
    if not result.catalog.offerings:
        raise CloudError("the refresh found no instance types; the catalog is unchanged",
                         cloud="aws")
    target = output or user_catalog_path()
    header = [line.format(today=dt.date.today().isoformat(),
                          source=endpoint_url or "AWS") for line in _REFRESHED_HEADER]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(result.catalog.to_csv(header), encoding="utf-8")
    except OSError as err:
        raise StyxError(f"cannot write the catalog {target}: {err.strerror}") from err
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"wrote {len(result.catalog.offerings)} offerings in "
               f"{len(result.catalog.regions)} regions to {target}")
