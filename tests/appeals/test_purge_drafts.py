"""``flask --app portal appeals purge-drafts``: unfinished drafts older than a day go, with
their photos; a draft in use stays."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, update

from portal import db
from portal.appeals.models import AppealDraft, AppealPhoto
from tests.appeals.conftest import answers_for, jpeg_with_gps, walk
from tests.helpers import Client


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_purge_removes_stale_drafts_and_their_photos_only(
    app: Flask, client: Client, world, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"), stop_at="foto")
    token = client.csrf_token("/sanggahan/foto")
    data = {
        "csrf_token": token,
        "action": "upload",
        "photos": (io.BytesIO(jpeg_with_gps()), "a.jpg"),
    }
    sent = client.post("/sanggahan/foto", data=data, content_type="multipart/form-data")
    assert sent.status_code == 302
    [photo_file] = list((tmp_path / "uploads").iterdir())
    fresh = Client(app, app.response_class)
    walk(fresh, "usulan", answers_for(world, "USUL-PROGRAM"), stop_at="program")
    with app.app_context():
        db.session.execute(
            update(AppealDraft)
            .where(AppealDraft.kind == "sanggahan")
            .values(updated_at=db.utcnow() - timedelta(hours=25))
        )
        db.session.commit()

    result = runner.invoke(args=["appeals", "purge-drafts"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "purged 1 draft(s)"
    assert not photo_file.exists()
    assert count(app, AppealPhoto) == 0
    assert count(app, AppealDraft) == 1
    assert runner.invoke(args=["appeals", "purge-drafts"]).output.splitlines() == [
        "purged 0 draft(s)",
        "purged 0 kept form(s) and look-up result(s)",
    ]


def test_starting_a_filing_purges_day_old_drafts_at_most_once_an_interval(
    app: Flask, world, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new draft deletes the day-old ones (a quiet portal has the hourly command too), but
    not on every new draft: at most once every EXPIRED_SWEEP_SECONDS a process
    (portal/expiry.py)."""
    from portal import expiry

    clock = [1000.0]
    monkeypatch.setattr(expiry.time, "monotonic", lambda: clock[0])
    app.config["EXPIRED_SWEEP_SECONDS"] = 60.0

    def start_a_filing() -> None:
        walk(
            Client(app, app.response_class),
            "usulan",
            answers_for(world, "USUL-PROGRAM"),
            stop_at="program",
        )

    def age_every_draft() -> None:
        with app.app_context():
            day_ago = db.utcnow() - timedelta(hours=25)
            db.session.execute(update(AppealDraft).values(updated_at=day_ago))
            db.session.commit()

    start_a_filing()  # the process's first purge
    age_every_draft()
    clock[0] += 59
    start_a_filing()
    assert count(app, AppealDraft) == 2  # the day-old one waits for the next purge

    clock[0] += 2
    start_a_filing()
    assert count(app, AppealDraft) == 2  # the day-old one went, the last two stay
    with app.app_context():
        ages = db.session.scalars(select(AppealDraft.updated_at)).all()
        assert all(at > db.utcnow() - timedelta(hours=1) for at in ages)
