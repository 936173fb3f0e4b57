"""HTTP for "Riwayat pengecekan": the household's access record, a GET of its own after a
successful look-up (the look-up itself stays one INSERT and one reference).

Opened only by the server-side reference of this browser's latest look-up, as the result
page is (portal/replay ``recall_lookup``): expired, unknown or from older data, back to the
form with the result page's messages; a look-up that found nothing has no record to show.
Reading the record is not a read of the household's data: it writes no access row."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from portal import policy, replay
from portal.access import history
from portal.dataimport import queries as snapshot_queries
from portal.extensions import limiter
from portal.lookup import views as lookup_views

bp = Blueprint("access", __name__)


def _until() -> date | None:
    """The page asked for (?sampai=YYYY-MM-DD, a WIB day); a malformed one is a 404."""
    raw = request.args.get("sampai")
    if raw is None:
        return None
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None:
        abort(404)
    return day


@bp.get("/hasil/riwayat")
@limiter.exempt  # as the result page: shows what an admitted POST found (policy.recheck)
@policy.checks(policy.Check.LOOKUP)
def record() -> ResponseReturnValue:
    reference = lookup_views.recall_current()
    if not isinstance(reference, replay.Recalled):
        return reference
    policy.recheck()  # the numbers were admitted by the POST that found them
    if not reference.matched:
        return redirect(url_for("lookup.result"))  # nothing found: nothing to show
    until = _until()
    page = history.household_record(snapshot_queries.pseudonym(reference.no_kk, "kk"), until=until)
    names = history.office_names(page.lines)
    lines = [(line, history.who(line, names), history.why(line)) for line in page.lines]
    return render_template("access/record.html", page=page, lines=lines, until=until)
