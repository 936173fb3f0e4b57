"""Adds each capability's click group to ``app.cli``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.appeals.cli import appeals_cli
    from portal.audit.cli import audit_cli
    from portal.auth.cli import staff_cli
    from portal.dataimport.cli import demo_command, dtsen_cli
    from portal.help.cli import contacts_cli
    from portal.jobs.cli import jobs_cli
    from portal.migrate import db_cli
    from portal.notify.cli import notify_cli
    from portal.review.cli import review_cli
    from portal.statistik.cli import statistik_cli
    from portal.wilayah.cli import wilayah_cli

    wilayah_cli.add_command(contacts_cli)  # flask wilayah contacts import FILE
    for command in (
        db_cli,
        wilayah_cli,
        dtsen_cli,
        demo_command,
        staff_cli,
        review_cli,
        appeals_cli,
        audit_cli,
        jobs_cli,
        notify_cli,
        statistik_cli,
    ):
        app.cli.add_command(command)
