"""``flask --app portal review ...``: jobs of the staff queue, for cron."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.review import service

review_cli = AppGroup("review", help="Staff queue jobs.")


@review_cli.command("escalate")
def escalate_command() -> None:
    """Flag open cases past their due date for the admin_dinsos of their area.

    Each case is flagged once (audited as 'escalate'); its state never changes: nothing is
    decided automatically. Run it hourly from cron; the admin sees the flagged cases in the
    queue (filter 'Only escalated') and on the dashboard.
    """
    flagged = service.escalate_overdue()
    by_area: dict[str, int] = {}
    for appeal in flagged:
        if appeal.escalated_at is not None:
            by_area[appeal.kabupaten_code] = by_area.get(appeal.kabupaten_code, 0) + 1
    total = sum(by_area.values())
    click.echo(f"escalated {total} overdue case(s)" + (f": {by_area}" if by_area else ""))
