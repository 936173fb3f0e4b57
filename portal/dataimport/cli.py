"""``flask --app portal dtsen ...`` and ``flask --app portal demo``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from portal import db
from portal.appeals import reflected
from portal.dataimport import demo as demo_data
from portal.dataimport.loader import SnapshotRejected, import_snapshot
from portal.dataimport.models import Snapshot
from portal.dataimport.reader import SnapshotFormatError

dtsen_cli = AppGroup("dtsen", help="DTSEN quarterly snapshots.")


@dtsen_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Validate FILE (snapshot CSV, see DOMAIN.md) and publish it as its period.

    Every row is checked; if any is bad, each bad line is reported with its reason and
    nothing is published. A good file replaces the published snapshot of the same period
    in one transaction. Importing the same file again changes nothing.
    """
    try:
        result = import_snapshot(file)
    except SnapshotFormatError as exc:
        raise click.ClickException(f"{file.name}: {exc}. Nothing was published.") from exc
    except SnapshotRejected as exc:
        for error in exc.errors:
            click.echo(f"{file.name}: {error}", err=True)
        if exc.total > len(exc.errors):
            click.echo(f"... and {exc.total - len(exc.errors)} more bad rows.", err=True)
        raise click.ClickException(f"{exc.total} bad row(s). Nothing was published.") from exc
    if result.already_published:
        click.echo(
            f"{result.period}: this file is already the published snapshot "
            f"({result.rows:,} rows, {result.households:,} households). Nothing changed."
        )
        return
    replaced = " It replaces the earlier file for this period." if result.replaced else ""
    rate = result.rows / max(result.seconds, 1e-9)
    click.echo(
        f"{result.period}: published {result.rows:,} rows, {result.households:,} households "
        f"in {result.seconds:.2f} s ({rate:,.0f} rows/s).{replaced}"
    )
    if result.closed_cases:
        click.echo(
            f"{result.closed_cases:,} forwarded case(s) reflected in {result.period}: selesai."
        )


@dtsen_cli.command("reflect")
def reflect_command() -> None:
    """Move forwarded (diteruskan) cases that the newest published period reflects to
    selesai, as each import does right after publishing (rules: portal/appeals/reflected.py).
    Safe to run again: it closes only what the published data shows."""
    closed = reflected.close_reflected()
    click.echo(f"{len(closed):,} forwarded case(s) reflected in the published data: selesai.")


@dtsen_cli.command("periods")
def periods_command() -> None:
    """List imported snapshots, newest period first."""
    rows = db.session.scalars(select(Snapshot).order_by(Snapshot.period.desc(), Snapshot.id.desc()))
    for snap in rows:
        published = snap.published_at.strftime("%Y-%m-%d %H:%M UTC") if snap.published_at else "-"
        click.echo(
            f"{snap.period}  {snap.status:<9}  {snap.row_count:>9,} rows  "
            f"{snap.household_count:>8,} households  published {published}  {snap.source_name}"
        )


@click.command("demo")
@with_appcontext
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the demo CSV files (default: instance/demo).",
)
@click.option(
    "--not-real-data",
    is_flag=True,
    help="Load it even with PORTAL_ENV=production (a test deployment: the households are "
    "invented and would be published as real periods).",
)
def demo_command(out: Path | None, not_real_data: bool) -> None:
    """Load the deterministic demo data for Kabupaten Bekasi (32.16): periods 2026Q2 and
    2026Q3, through the same import as real snapshots. Safe to run again.

    Prints a NIK + No. KK pair for each look-up outcome. Refused in production unless
    --not-real-data says that this deployment is a test.
    """
    if current_app.config["ENV_NAME"] == "production" and not not_real_data:
        raise click.ClickException(
            "refusing to publish invented households in production "
            "(PORTAL_ENV=production); add --not-real-data for a test deployment"
        )
    try:
        results, showcase = demo_data.load(out)
    except (SnapshotRejected, SnapshotFormatError) as exc:  # would be a bug in the generator
        raise click.ClickException(f"demo data did not validate: {exc}") from exc
    except demo_data.RegionsMissing as exc:
        raise click.ClickException(str(exc)) from exc
    for result in results:
        state = "already loaded" if result.already_published else "published"
        click.echo(
            f"demo {result.period}: {state}, {result.rows:,} rows, {result.households:,} households"
        )
    click.echo("")
    click.echo("Demo look-ups (NIK + No. KK) on the home page:")
    for case in showcase:
        click.echo(f"  {case.title:<44} NIK {case.nik}  No. KK {case.no_kk}")
