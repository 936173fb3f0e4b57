"""``flask --app portal dtsen ...`` and ``flask --app portal demo``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from portal import db
from portal.appeals import reflected
from portal.dataimport import demo as demo_data
from portal.dataimport import retention
from portal.dataimport.loader import (
    ImportFailed,
    PeriodAlreadyPublished,
    SnapshotRejected,
    import_snapshot,
)
from portal.dataimport.models import Snapshot
from portal.dataimport.queries import clear_snapshot_cache
from portal.dataimport.reader import SnapshotFormatError

dtsen_cli = AppGroup("dtsen", help="DTSEN quarterly snapshots.")


@dtsen_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--replace",
    is_flag=True,
    help="Publish FILE even though another file is already the published snapshot of its "
    "period (a corrected file); the earlier one is marked replaced and pruned.",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Print nothing on success (for cron); errors are still printed.",
)
def import_command(file: Path, replace: bool, quiet: bool) -> None:
    """Validate FILE (snapshot CSV, see DOMAIN.md) and publish it as its period.

    The file is streamed in constant memory. Every row is checked; if any is bad, each bad
    line is reported with its reason (the first 200, then a count) and nothing is published.
    A good file is published in one transaction: the previous period is served until then,
    and a failure or a kill half-way leaves it served and nothing partial (the next run
    cleans up). Importing the same file again changes nothing; a different file for a
    period that is already published is refused unless --replace. After a publication,
    periods beyond SNAPSHOT_KEEP_PERIODS and replaced files are pruned.

    On a terminal a progress bar (rows, rows/s, ETA) is drawn on stderr; otherwise one
    summary line is printed.
    """
    bar = ProgressLine(file.name) if not quiet and sys.stderr.isatty() else None
    try:
        result = import_snapshot(file, replace=replace, progress=bar)
    except SnapshotFormatError as exc:
        raise click.ClickException(f"{file.name}: {exc}. Nothing was published.") from exc
    except SnapshotRejected as exc:
        for error in exc.errors:
            click.echo(f"{file.name}: {error}", err=True)
        if exc.total > len(exc.errors):
            click.echo(f"... and {exc.total - len(exc.errors)} more bad rows.", err=True)
        raise click.ClickException(f"{exc.total} bad row(s). Nothing was published.") from exc
    except PeriodAlreadyPublished as exc:
        raise click.ClickException(
            f"{file.name}: period {exc.period} is already published from another file "
            f"({exc.source_name}). Nothing was published; to publish this file instead, "
            "run again with --replace."
        ) from exc
    except ImportFailed as exc:
        raise click.ClickException(
            f"{file.name}: the database failed during the import ({exc}). Nothing was "
            "published; the previous period is still served. Fix the cause (disk space?) "
            "and run the import again."
        ) from exc
    finally:
        if bar is not None:
            bar.close()
    if quiet:
        return
    if result.already_published:
        click.echo(
            f"{result.period}: this file is already the published snapshot "
            f"({result.rows:,} rows, {result.households:,} households). Nothing changed."
        )
        return
    replaced = " It replaces the earlier file for this period." if result.replaced else ""
    pruned = f" Pruned {len(result.pruned)} old snapshot(s)." if result.pruned else ""
    rate = result.rows / max(result.seconds, 1e-9)
    steps = ", ".join(f"{name} {s:.1f} s" for name, s in result.stages.items())
    steps = f" Steps: {steps}." if steps else ""
    click.echo(
        f"{result.period}: published {result.rows:,} rows, {result.households:,} households "
        f"in {result.seconds:.2f} s ({rate:,.0f} rows/s).{replaced}{pruned}{steps}"
    )
    if result.closed_cases:
        click.echo(
            f"{result.closed_cases:,} forwarded case(s) reflected in {result.period}: selesai."
        )


class ProgressLine:
    """One line on stderr, redrawn: rows, rows/s and an ETA from the bytes read."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.monotonic()
        self.drawn = False

    def __call__(self, rows: int, done: int, total: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        share = done / total if total else 1.0
        eta = elapsed * (1 - share) / share if share > 0 else 0.0
        width = 24
        filled = int(width * share)
        bar = "#" * filled + "-" * (width - filled)
        line = (
            f"\r{self.name} [{bar}] {share:4.0%} {rows:>12,} rows "
            f"{rows / elapsed:>9,.0f} rows/s  ETA {int(eta) // 60}:{int(eta) % 60:02d}"
        )
        click.echo(line, nl=False, err=True)
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            click.echo("", err=True)


@dtsen_cli.command("prune")
@click.option(
    "--keep",
    type=click.IntRange(min=2),
    default=None,
    help="Published periods to keep (default: SNAPSHOT_KEEP_PERIODS; at least 2).",
)
def prune_command(keep: int | None) -> None:
    """Remove snapshots beyond retention: published periods older than the newest KEEP and
    every replaced file, plus what a killed import left behind (a loading snapshot, staging
    or unattached tables). On PostgreSQL each snapshot is dropped as two partitions."""
    with retention.import_lock():
        leftovers = retention.clean_abandoned()
        pruned = retention.prune(keep)
    clear_snapshot_cache()
    click.echo(
        f"pruned {len(pruned)} snapshot(s); kept {keep or retention.keep_periods()} newest "
        f"period(s); removed {len(leftovers)} leftover(s) of interrupted imports."
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
    except PeriodAlreadyPublished as exc:
        raise click.ClickException(
            f"period {exc.period} is already published from another file ({exc.source_name}); "
            "the demo does not replace real data"
        ) from exc
    for result in results:
        state = "already loaded" if result.already_published else "published"
        click.echo(
            f"demo {result.period}: {state}, {result.rows:,} rows, {result.households:,} households"
        )
    click.echo("")
    click.echo("Demo look-ups (NIK + No. KK) on the home page:")
    for case in showcase:
        click.echo(f"  {case.title:<44} NIK {case.nik}  No. KK {case.no_kk}")
