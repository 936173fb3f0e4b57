"""``flask --app portal statistik ...``: the pre-aggregated public statistics."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from portal import db
from portal.statistik import cases, queries, refresh

statistik_cli = AppGroup("statistik", help="Public statistics at /statistik (docs/statistics.md).")


@statistik_cli.command("refresh")
def refresh_command() -> None:
    """Recompute the statistics of every published period and the case counts from the
    cases. The import and the case triggers keep them right; this repairs them (after a
    manual change in the database or a bulk load that bypassed the triggers)."""
    started = time.perf_counter()
    conn = db.session.connection()
    ids = refresh.refresh_all(conn)
    cases.rebuild(conn)
    db.session.commit()
    queries.clear_cache()
    click.echo(
        f"statistics refreshed: {len(ids)} published snapshot(s) and the case counts "
        f"in {time.perf_counter() - started:.1f} s"
    )
