"""HTTP for the help pages: other ways to take part ("Cara lain"), the anti-scam page
("Waspada"), the privacy notice, the accessibility statement (the template globals that put
the Dinsos contact and the portal's address on the result, receipt and case pages are in
portal.templating). Read-only: nothing here writes."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from portal import db, replay
from portal.appeals import drafts
from portal.appeals.tracking import service as tracking
from portal.help.models import DinsosContact
from portal.wilayah.models import Wilayah

bp = Blueprint("help", __name__)


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


@bp.get("/cara-lain")
def other_ways() -> str:
    # the kabupaten/kota that have a contact, for the "find your Dinas Sosial" picker
    db.reads_only()  # one question, in autocommit: no BEGIN or ROLLBACK round trip
    offices = db.session.execute(
        select(Wilayah.code, Wilayah.name)
        .join(DinsosContact, DinsosContact.kabupaten_code == Wilayah.code)
        .order_by(Wilayah.name)
    ).all()
    chosen = request.args.get("kabupaten", "")
    known = {code for code, _name in offices}
    return render_template(
        "help/other_ways.html",
        offices=offices,
        chosen=chosen if chosen in known else None,
    )


@bp.get("/privasi")
def privacy() -> str:
    cfg = current_app.config
    return render_template(
        "help/privacy.html",
        # every duration the notice names comes from the code or the settings, never typed
        draft_seconds=_seconds(drafts.DRAFT_LIFETIME),
        tracking_seconds=_seconds(tracking.TRACKING_LIFETIME),
        session_seconds=int(cfg["PERMANENT_SESSION_LIFETIME"]),
        form_seconds=int(cfg["WTF_CSRF_TIME_LIMIT"]),
        lookup_seconds=_seconds(replay.LOOKUP_LIFETIME),
        replay_seconds=_seconds(replay.REPLAY_LIFETIME),
    )


@bp.get("/waspada")
def beware() -> str:
    """Anti-scam page: the official channels, what the portal never asks for, how to tell a
    fake site or app, and where to report one. The portal's address is named only when
    PUBLIC_BASE_URL sets it: a copy of this page served by a fake site must not vouch for the
    fake's own address."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    return render_template("help/beware.html", official=urlsplit(base).netloc if base else None)


@bp.get("/aksesibilitas")
def accessibility() -> str:
    return render_template("help/accessibility.html")
