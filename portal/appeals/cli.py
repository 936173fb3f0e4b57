"""``flask --app portal appeals ...``: jobs of the filing side, for a timer."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.appeals import service

appeals_cli = AppGroup("appeals", help="Filing jobs (sanggahan and usulan).")


@appeals_cli.command("purge-drafts")
def purge_drafts_command() -> None:
    """Delete unfinished drafts untouched for 24 hours, with their photos.

    A draft holds the filer's NIK and any photos until the case is sent; nobody needs them
    after a day. Starting a new draft purges too, but a quiet portal may start none: run
    this hourly (deploy/systemd/dtsen-portal-purge-drafts.timer).
    """
    click.echo(f"purged {service.purge_drafts()} draft(s)")
