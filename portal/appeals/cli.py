"""``flask --app portal appeals ...``: jobs of the filing side, for a timer."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal import replay
from portal.appeals import drafts

appeals_cli = AppGroup("appeals", help="Filing jobs (sanggahan and usulan).")


@appeals_cli.command("purge-drafts")
def purge_drafts_command() -> None:
    """Delete unfinished drafts untouched for 24 hours, with their photos, and expired
    kept forms and look-up results.

    A draft holds the filer's NIK and any photos until the case is sent; nobody needs them
    after a day. A kept form (15 minutes) or look-up result (30 minutes) may hold a NIK
    too. Starting a new draft or keeping a new form or result sweeps the expired ones too
    (at most once every EXPIRED_SWEEP_SECONDS a process), but a quiet portal may do
    neither: run this hourly (deploy/systemd/dtsen-portal-purge-drafts.timer).
    """
    click.echo(f"purged {drafts.purge_drafts()} draft(s)")
    click.echo(f"purged {replay.purge()} kept form(s) and look-up result(s)")
